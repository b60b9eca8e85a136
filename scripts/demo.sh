#!/usr/bin/env bash
# A short day in a throwaway exchange: commits, LLM requests, a refused burst, a pool.
set -u
home=$(mktemp -d -t token-exchange-demo.XXXXXX)
tx() { echo; printf "$ token-exchange"; printf " %q" "$@"; echo; token-exchange "$@" --home "$home"; }

tx init
# A commit pays once per full SHA (as `git rev-parse HEAD` prints it); sending it again
# says it was already paid.
sha1=1a2b3c4d1a2b3c4d1a2b3c4d1a2b3c4d1a2b3c4d
tx commit claude@aygp-dr.ai nexushive-setup "hotfix: critical security patch" --sha $sha1
tx commit claude@aygp-dr.ai nexushive-setup "hotfix: critical security patch" --sha $sha1
tx commit builder@aygp-dr.ai scheme-parser "test: add coverage for the reader" \
   --sha 5e6f7a8b5e6f7a8b5e6f7a8b5e6f7a8b5e6f7a8b
tx commit zero@aygp-dr.ai docs-site "docs(readme): explain pools"
tx award observer 450 beads-integration "Closed P2 bug bd-42"
tx llm zero coding 5000
tx llm builder coding 20000
tx llm builder planning 8000
tx llm claude reasoning 30000
tx llm claude reasoning 44000          # 660 tokens: over the 500 burst limit, refused
tx llm claude reasoning 30000
tx llm claude reasoning 13000          # the rolling hour is nearly used up, refused
tx pool create opus-team claude 100
tx pool invite pool-1 builder         # invite-only: the creator invites
tx pool join pool-1 builder
tx pool contribute pool-1 claude 600
tx pool contribute pool-1 builder 400
tx pool spend pool-1 claude-opus 10000 "complex analysis"
tx pool show pool-1
tx status
tx limits claude
tx doctor
echo
echo "The demo exchange is at $home (delete it when done)."
echo "token-exchange is in .venv/bin: run \`. .venv/bin/activate\` (or"
echo "PATH=\$PWD/.venv/bin:\$PATH) to type it without the path."
