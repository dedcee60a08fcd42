#!/usr/bin/env bash
# Kills every process group listed in PIDFILE once PARENT is gone, so nothing started by the test
# harness outlives the run, even when the runner itself is killed. Lines: "NAME PGID".
parent="$1" pidfile="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[[ -f "$pidfile" ]] || exit 0
groups=$(awk '{print $2}' "$pidfile")
for pg in $groups; do kill -TERM -- "-$pg" 2>/dev/null; done
sleep 3
for pg in $groups; do kill -KILL -- "-$pg" 2>/dev/null; done
exit 0
