#!/usr/bin/env bash
# Re-synthesize the CDK examples of the corpus into <example>/cdk.out (committed, so tests never
# synthesize them). Uses this repository's pinned CDK CLI (node_modules) and aws-cdk-lib (.venv);
# offline, no credentials. Run from the repository root: bash tests/localbus/corpus/synth_cdk_examples.sh
set -euo pipefail
ROOT="$(pwd)"
CORPUS="$ROOT/tests/localbus/corpus"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 AWS_EC2_METADATA_DISABLED=true
for app_dir in eventbridge-lambda-cdk/cdk eventbridge-sns-cdk eventbridge-sqs-cdk/cdk \
    eventbridge-pipes-sqs-to-multiple-sqs eventbridge-pipes-sqs-to-eventbridge-cdk-python \
    eventbridge-pipes-sqs-to-stepfunctions-filter-transform-python-cdk \
    eventbridge-schedule-to-eventbridge-cdk-python; do
  example="${app_dir%%/*}"
  rm -rf "$CORPUS/$example/cdk.out"
  (cd "$CORPUS/$app_dir" && "$ROOT/node_modules/.bin/cdk" synth -q --no-notices \
      -c cli-telemetry=false --app "$ROOT/.venv/bin/python app.py" -o "$CORPUS/$example/cdk.out")
  # The construct tree is for the console, not for loading; keep the folder small.
  rm -f "$CORPUS/$example"/cdk.out/{tree.json,performance-counters.json,validation-report.json}
done
