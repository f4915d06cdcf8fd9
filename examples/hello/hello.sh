#!/bin/sh
echo "$GREETING"
cat /etc/motd
echo "running as uid $(id -u) on $(uname -m)"
