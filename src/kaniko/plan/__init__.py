"""The build plan: stages, steps, ARG/ENV scoping (see :mod:`kaniko.plan.builder`)."""

from kaniko.plan.builder import BaseImages, PlanArguments, make_plan
from kaniko.plan.format import format_plan
from kaniko.plan.model import BuildPlan, Stage, Step

__all__ = ["BaseImages", "BuildPlan", "PlanArguments", "Stage", "Step", "format_plan", "make_plan"]
