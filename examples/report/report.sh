#!/bin/sh
# The demo cron job: prints a one-line report and exits 0.
echo "report at $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(hostname)"
