#!/usr/bin/env bash
# Offline checks of infra/ and .github/workflows, with pinned tools provisioned from the package
# registries into .tools/infra (git-ignored):
#   - `tofu fmt -check`: OpenTofu's formatter (the same rules as `terraform fmt`), built from the Go
#     module at a pinned tag. `go install` refuses the module (its go.mod has a replace directive),
#     so the module is downloaded and built in place. ~5 minutes on a cold machine, seconds with a
#     warm Go build cache.
#   - checkov (PyPI) over infra/ and .github/workflows: no failed check; a suppression must be an
#     inline `checkov:skip=<id>: <reason>`; a file checkov cannot parse fails the run (it would
#     otherwise pass unread).
#   - actionlint (Go module) over .github/workflows.
#   - the azurerm schema: every argument and block name in infra/ exists in the azurerm provider's
#     schema, read from the npm registry's cdktf binding of it (scripts/check-tf-schema.ts).
# `terraform validate` and `plan` need the azurerm and temporalcloud providers, which cannot be
# downloaded here: deploy.yml runs them (plan on every pull request).
#
#   bash scripts/check-infra.sh              provision what is missing, then run every check
#   bash scripts/check-infra.sh --install    provision only, print the tool paths
#   bash scripts/check-infra.sh --only fmt   one check: fmt, schema, checkov-terraform, checkov-actions, actionlint
# INFRA_DIR and WORKFLOWS_DIR point the checks at other copies (test/unit/infra-tools.test.ts
# mutates copies and expects each check to fail).
set -euo pipefail
cd "$(dirname "$0")/.."

OPENTOFU_VERSION=v1.10.10
ACTIONLINT_VERSION=v1.7.12
CHECKOV_VERSION=3.3.30
# @cdktf/provider-azurerm 14.23.1 is generated from azurerm 4.55.0 (infra/versions.tf: ~> 4.55).
AZURERM_BINDING_VERSION=14.23.1

TOOLS="$PWD/.tools/infra"
TOFU="$TOOLS/tofu-$OPENTOFU_VERSION/tofu"
ACTIONLINT="$TOOLS/actionlint-$ACTIONLINT_VERSION/actionlint"
CHECKOV_VENV="$TOOLS/checkov-$CHECKOV_VERSION"
CHECKOV="$CHECKOV_VENV/bin/checkov"
AZURERM_BINDING="$TOOLS/provider-azurerm-$AZURERM_BINDING_VERSION"

say() { echo "check-infra: $*" >&2; }

provision() {
  mkdir -p "$TOOLS"
  if [ ! -x "$TOFU" ]; then
    command -v go >/dev/null || { say "go is needed to build OpenTofu $OPENTOFU_VERSION"; exit 1; }
    say "building OpenTofu $OPENTOFU_VERSION from the Go module (first time: several minutes)"
    local dir
    dir="$(go mod download -json "github.com/opentofu/opentofu@$OPENTOFU_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
    [ -n "$dir" ] || { say "go mod download gave no directory for opentofu $OPENTOFU_VERSION"; exit 1; }
    (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -o "$TOFU.tmp" ./cmd/tofu)
    mv "$TOFU.tmp" "$TOFU"
  fi
  if [ ! -x "$ACTIONLINT" ]; then
    say "installing actionlint $ACTIONLINT_VERSION (Go module)"
    GOBIN="$(dirname "$ACTIONLINT")" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  fi
  if [ ! -x "$CHECKOV" ]; then
    say "installing checkov $CHECKOV_VERSION (PyPI) into a venv"
    rm -rf "$CHECKOV_VENV"
    python3 -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  fi
  if [ ! -f "$AZURERM_BINDING/package.json" ]; then
    say "unpacking @cdktf/provider-azurerm $AZURERM_BINDING_VERSION (npm; the azurerm schema)"
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "@cdktf/provider-azurerm@$AZURERM_BINDING_VERSION" >/dev/null)
    mkdir -p "$AZURERM_BINDING.tmp"
    tar -xzf "$tmp"/*.tgz -C "$AZURERM_BINDING.tmp" --strip-components=1
    rm -rf "$tmp" "$AZURERM_BINDING"
    mv "$AZURERM_BINDING.tmp" "$AZURERM_BINDING"
  fi
}

# Checkov over one directory and framework; fails on a failed check or a file it could not parse.
run_checkov() {
  local dir="$1" framework="$2" report
  report="$(mktemp)"
  # --skip-download: no policy or guideline download (no network here, none needed).
  "$CHECKOV" -d "$dir" --framework "$framework" --skip-download -o json >"$report" || true
  python3 - "$report" "$dir" <<'PY'
import json, sys
report, target = sys.argv[1], sys.argv[2]
with open(report) as f:
    text = f.read().strip()
data = json.loads(text) if text else {}
runs = data if isinstance(data, list) else [data]
failed, parse_errors, skipped, passed = [], [], [], 0
for run in runs:
    if not run or "results" not in run:
        continue
    results = run["results"]
    passed += len(results.get("passed_checks", []))
    failed += results.get("failed_checks", [])
    skipped += results.get("skipped_checks", [])
    parse_errors += results.get("parsing_errors", [])
for c in failed:
    print(f"FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})")
for p in parse_errors:
    print(f"PARSE ERROR {p}: checkov could not read it, so none of its checks ran")
for c in skipped:
    reason = (c.get("check_result") or {}).get("suppress_comment") or ""
    if not reason.strip() or reason.strip() == "No comment provided":
        print(f"SKIPPED WITHOUT A REASON {c['check_id']}: {c['resource']} ({c['file_path']})")
        failed.append(c)
print(f"checkov {target}: {passed} passed, {len(failed)} failed, {len(skipped)} skipped with a reason, {len(parse_errors)} unparsed")
if passed == 0:
    print(f"checkov {target}: no check ran")
sys.exit(1 if failed or parse_errors or passed == 0 else 0)
PY
  local status=$?
  rm -f "$report"
  return $status
}

INFRA_DIR="${INFRA_DIR:-infra}"
WORKFLOWS_DIR="${WORKFLOWS_DIR:-.github/workflows}"
ONLY=""
case "${1:-}" in
  --install) ;;
  --only) ONLY="${2:?--only needs fmt, schema, checkov-terraform, checkov-actions or actionlint}" ;;
  "") ;;
  *) say "unknown argument $1"; exit 2 ;;
esac

provision
if [ "${1:-}" = "--install" ]; then
  printf 'tofu=%s\nactionlint=%s\ncheckov=%s\nazurerm-schema=%s\n' "$TOFU" "$ACTIONLINT" "$CHECKOV" "$AZURERM_BINDING"
  exit 0
fi
wanted() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

status=0
if wanted fmt; then
  echo "--- tofu fmt -check (OpenTofu $OPENTOFU_VERSION)"
  # OpenTofu warns about a missing CLI config file when TF_CLI_CONFIG_FILE names one: none is needed.
  TF_CLI_CONFIG_FILE=/dev/null "$TOFU" fmt -check -recursive -diff "$INFRA_DIR" \
    || { say "tofu fmt: run '$TOFU fmt -recursive $INFRA_DIR'"; status=1; }
fi
if wanted schema; then
  echo "--- azurerm schema (@cdktf/provider-azurerm $AZURERM_BINDING_VERSION)"
  "$PWD/node_modules/.bin/tsx" scripts/check-tf-schema.ts "$AZURERM_BINDING" "$INFRA_DIR" || status=1
fi
if wanted checkov-terraform; then
  echo "--- checkov $CHECKOV_VERSION (terraform)"
  run_checkov "$INFRA_DIR" terraform || status=1
fi
if wanted checkov-actions; then
  echo "--- checkov $CHECKOV_VERSION (github_actions)"
  run_checkov "$WORKFLOWS_DIR" github_actions || status=1
fi
if wanted actionlint; then
  echo "--- actionlint $ACTIONLINT_VERSION"
  "$ACTIONLINT" -no-color "$WORKFLOWS_DIR"/*.yml || status=1
fi
if [ "$status" -eq 0 ]; then echo "infra checks: passed${ONLY:+ ($ONLY)}"; fi
exit "$status"
