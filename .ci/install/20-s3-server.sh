#!/usr/bin/env bash
# moto's S3-compatible server, which the object storage tests start on a
# loopback port (crates/testkit/src/s3). It honours If-Match/If-None-Match.
set -euo pipefail
if python3 -c "import moto.server, flask, flask_cors, boto3" >/dev/null 2>&1; then
  echo "moto[server]: present"
  exit 0
fi
python3 -m pip install --quiet 'moto[server]>=5.1'
python3 -c "import moto; print('moto', moto.__version__)"
