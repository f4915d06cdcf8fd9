#!/bin/sh
echo chmod works
