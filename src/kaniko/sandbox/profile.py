"""Docker's default seccomp policy, as data: which system calls a RUN may make.

The policy is the one Docker (moby's ``profiles/seccomp``) and containerd apply to a
default container, written in the terms of the containers-common profile format
(``/usr/share/containers/seccomp.json``): a default action for every system call not
named, names allowed outright, names allowed per architecture or per granted
capability, and a few argument conditions. :func:`rules` selects what applies to one
architecture and set of capabilities, as the runtimes' converters do;
:mod:`kaniko.sandbox.seccomp` compiles the result to BPF.

The default is ``EPERM``. Without ``CAP_SYS_ADMIN`` the namespace, mount and kernel
tracing calls are refused, ``clone`` may not ask for a new namespace, and ``clone3``
fails with ``ENOSYS`` (its flags are out of reach of a filter) so that the C library falls
back to ``clone``. Module loading, ``kexec``, ``keyctl``, ``userfaultfd``, ``iopl`` and
friends are refused unless their capability is granted, which kaniko never does. The
``io_uring`` calls are refused (Docker since 25.0 and containerd: a ring performs system
calls no filter sees).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass

ALLOW = "allow"

DEFAULT_ERRNO = errno.EPERM

_ALWAYS_NAMES = """
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup
dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex
futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32
geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid
getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64
ioprio_get ioprio_set io_setup io_submit ipc
kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat
lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat
mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc
pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr
rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat
sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete
timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate
truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes
vfork vmsplice wait4 waitid waitpid write writev
process_vm_readv process_vm_writev ptrace
"""
_ALWAYS = tuple(_ALWAYS_NAMES.split())
"""Allowed for every container (``ptrace`` and ``process_vm_*`` since Linux 4.8, which
kaniko requires anyway): the kernel's own permission checks still apply."""

_BY_ARCH: dict[str, tuple[str, ...]] = {
    "x86_64": ("arch_prctl", "modify_ldt"),
    "aarch64": ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                "cacheflush", "set_tls"),
    "ppc64le": ("sync_file_range2", "swapcontext"),
    "s390x": ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    "riscv64": ("riscv_flush_icache",),
}  # fmt: skip

_BY_CAPABILITY: dict[str, tuple[str, ...]] = {
    "CAP_DAC_READ_SEARCH": ("open_by_handle_at",),
    "CAP_SYS_ADMIN": ("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount",
                      "fsopen", "fspick", "lookup_dcookie", "mount", "mount_setattr",
                      "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
                      "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2",
                      "unshare"),
    "CAP_SYS_BOOT": ("reboot",),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_MODULE": ("delete_module", "init_module", "finit_module"),
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_PTRACE": ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                       "process_vm_writev", "ptrace"),
    "CAP_SYS_RAWIO": ("iopl", "ioperm"),
    "CAP_SYS_TIME": ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_SYS_NICE": ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
    "CAP_SYSLOG": ("syslog",),
    "CAP_BPF": ("bpf",),
    "CAP_PERFMON": ("perf_event_open",),
}  # fmt: skip

_PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
"""``personality(2)`` values allowed: PER_LINUX, PER_LINUX32, UNAME26 variants, query."""

_AF_VSOCK = 40
_CLONE_NAMESPACE_FLAGS = 0x7E020000
"""``CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET``."""


@dataclass(frozen=True)
class Condition:
    """``(argument[index] & mask) <op> value``; ``op`` is ``eq``, ``ne`` or ``masked_eq``."""

    index: int
    op: str
    value: int
    mask: int = 0


@dataclass(frozen=True)
class Rule:
    """``names`` get ``action`` (:data:`ALLOW` or an errno) when all ``conditions`` hold."""

    names: tuple[str, ...]
    action: str | int
    conditions: tuple[Condition, ...] = ()


def rules(capabilities: Iterable[str], machine: str) -> list[Rule]:
    """The rules for a process with ``capabilities`` on architecture ``machine``.

    ``machine`` is :func:`os.uname` ``.machine`` of the native architecture; its 32-bit
    compatibility ABIs share the rules (the compiler adds them).
    """
    granted = set(capabilities)
    allowed = set(_ALWAYS).union(_BY_ARCH.get(machine, ()))
    for capability, names in _BY_CAPABILITY.items():
        if capability in granted:
            allowed.update(names)
    result = [Rule(tuple(sorted(allowed)), ALLOW)]
    result += [Rule(("personality",), ALLOW, (Condition(0, "eq", p),)) for p in _PERSONALITIES]
    result.append(Rule(("socket",), ALLOW, (Condition(0, "ne", _AF_VSOCK),)))
    if "CAP_SYS_ADMIN" not in granted:
        clone_arg = 1 if machine == "s390x" else 0  # s390 swaps clone's first arguments
        no_namespace = Condition(clone_arg, "masked_eq", 0, _CLONE_NAMESPACE_FLAGS)
        result.append(Rule(("clone",), ALLOW, (no_namespace,)))
        result.append(Rule(("clone3",), errno.ENOSYS))
    return result
