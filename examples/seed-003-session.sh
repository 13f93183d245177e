# Seed 003, section 2.2 ("基于Ftrace的kprobe"): an ftrace-based kprobe on kernel_clone, on arm64.
# The seed's session, adapted to `kprobesim shell`; run it on the seed's one-CPU arm64 machine:
#   npx kprobesim shell --arch arm64 --cpus 1 < examples/seed-003-session.sh
#   * the shell forks for every program it runs (cat, ls, …: the shell, sh-572, calls
#     kernel_clone, so each `cat trace` shows its own fork), and `run CMD` starts a task that
#     stands for the seed's other programs;
#   * before setting the filter the seed's buffer had been refilled by other tasks; here the
#     buffer is cleared and `run sh -c ls` makes a child shell (another pid) fork as well.

cd /sys/kernel/debug/tracing

# (1) Add the probe point: registers x0..x3 and the word at the stack pointer.
echo 'p:myprobe kernel_clone clone_flags=%x0 stack_start=%x1 stack_size=%x2 parent_tidptr=%x3 child_tidptr=+0($stack)' > /sys/kernel/debug/tracing/kprobe_events
cat kprobe_events

# (2) The event's format.
cat events/kprobes/myprobe/format

# (3) Enable it.
echo 1 > events/kprobes/myprobe/enable

# (4) Make the kernel fork a few times, then read the trace.
run ls
run ls
run ls
run ls
cat trace

# (5) Stack traces with every record.
echo stacktrace > /sys/kernel/debug/tracing/trace_options
run ls
cat trace

# (6) A filter on the event (see its format for the fields): drop the records of pid 572.
echo common_pid!=572 > events/kprobes/myprobe/filter
cat events/kprobes/myprobe/filter
echo > trace
run ls
run sh -c ls
cat trace

# (7) Hits and misses: the hits include the filtered-out records.
cat /sys/kernel/debug/tracing/kprobe_profile

# Clean up.
echo nostacktrace > trace_options
echo 0 > events/kprobes/myprobe/filter
echo 0 > events/kprobes/myprobe/enable
echo '-:myprobe' >> kprobe_events
cat kprobe_events
cat error_log
