#!/usr/bin/env bash
# Benchmark: `driftsync config validate` on generated files of N command targets.
# Usage: bash bench/config_load.sh [N ...]   (default 20000 40000 80000; PROFILE=release for the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-dev}"
cargo build --quiet --profile "$profile" --bin driftsync
dir_of_profile=$([ "$profile" = dev ] && echo debug || echo "$profile")
bin="$PWD/target/$dir_of_profile/driftsync"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(20000 40000 80000)
for n in "${sizes[@]}"; do
  dir="$PWD/bench/out/config_load/$n"
  rm -rf "$dir"
  mkdir -p "$dir/.driftsync"
  python3 -c "
import sys
n = int(sys.argv[1])
out = ['version: \"1.0\"', 'targets:']
for i in range(n):
    out.append(f'  t{i}:\n    type: command\n    run: echo {i}\n    schedule: \"0 2 * * *\"\n    timeout: 5m')
open(sys.argv[2], 'w').write('\n'.join(out) + '\n')
" "$n" "$dir/.driftsync/sync.yaml"
  (cd "$dir" && /usr/bin/time -f "$n targets: %e s wall, %U s user, %M KB peak" "$bin" config validate > /dev/null)
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) core(s)"
