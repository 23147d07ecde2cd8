#!/bin/sh
# Seeds (not committed): the repository's own inputs of each format.
set -eu
cd "$(dirname "$0")"
rm -rf seeds && mkdir -p seeds/scenario_yaml seeds/hns_json seeds/adapter_lines seeds/packet seeds/node_dump
cp ../scenarios/*/*.yaml ../tests/data/bad/*.yaml seeds/scenario_yaml/ 2>/dev/null || true
for f in ../tests/data/hns-dumps/*.json ../tests/data/hns-validate/*.json ../tests/data/bad/*.json; do
    cp "$f" "seeds/hns_json/$(basename "$(dirname "$f")")-$(basename "$f")"
done
# Node-dump files: the collectlogs-shaped fixtures (UTF-16, tables before JSON, logs).
for f in ../tests/data/nodes/*/*; do
    cp "$f" "seeds/node_dump/$(basename "$(dirname "$f")")-$(basename "$f")"
done
# Adapter request lines from the recorded conformance transcript, eight calls per file.
python3 - <<'PY'
import json
lines = [json.loads(l) for l in open('../tests/data/transcripts/conform-sim.jsonl')][1:]
reqs = [f"{l['op']}\t{l['id']}\t{l['document']}" for l in lines]
for k in range(0, min(len(reqs), 200), 8):
    open(f'seeds/adapter_lines/r{k}.txt', 'w').write("\n".join(reqs[k:k + 8]) + "\n")
open('seeds/adapter_lines/replies.txt', 'w').write(
    'OK\t{"ID":"x"}\nOK\nERR\t0x803B0013\tport exists\t{}\nHELLO\thnsim-adapter\t1\tsim\n')
PY
# Frames captured by running some scenarios with --pcap (needs a built hnsim).
HNSIM=${HNSIM:-../target/debug/hnsim}
if [ -x "$HNSIM" ]; then
    rm -rf work/pcap && "$HNSIM" run ../scenarios/l2bridge ../scenarios/overlay ../scenarios/kube-proxy --pcap work/pcap >/dev/null 2>&1 || true
    python3 - <<'PY'
import glob, hashlib, struct
seen = set()
for p in sorted(glob.glob('work/pcap/**/*.pcap', recursive=True)):
    b = open(p, 'rb').read()
    off = 24
    while off + 16 <= len(b):
        n = struct.unpack('<I', b[off + 8:off + 12])[0]
        fr = b[off + 16:off + 16 + n]
        off += 16 + n
        key = (len(fr) // 100, fr[12:14], fr[23:24])
        if key not in seen:
            seen.add(key)
            open('seeds/packet/' + hashlib.sha1(fr).hexdigest()[:12], 'wb').write(fr)
PY
fi
