"""Summarizes stop 21's runs (runs.sh): per run the choice, MAPE (all steps), last-step MAPE, MASE, CPU."""
import glob, json, os, re, sys

R = sys.argv[1] if len(sys.argv) > 1 else '/tmp/fc21-runs'


def cpu(name):
    try:
        t = open(f'{R}/{name}.time').read()
    except OSError:
        return None, None
    if 'User time' not in t:
        return None, None
    u = float(re.search(r'User time \(seconds\): ([\d.]+)', t).group(1))
    s = float(re.search(r'System time \(seconds\): ([\d.]+)', t).group(1))
    w = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)', t).group(1)
    return u + s, w


for log in sorted(glob.glob(f'{R}/*.log')):
    name = os.path.basename(log)[:-4]
    text = open(log).read()
    c, w = cpu(name)
    out = [name, f'cpu={c:.1f}s wall={w}' if c is not None else 'running?']
    d = re.search(r'^differencing: ([\w+]+), .*?\(([^()]*?)\); the test part', text, re.M)
    if d:
        out.append(f'chose {d.group(1)} ({d.group(2)})')
    m = re.search(r'^\| \**(lstm|gru|rnn|transformer)\** \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|', text, re.M)
    if m:
        out.append(f'backtest MAPE {m.group(4)} last-step {m.group(7)} MASE {m.group(6)}')
    js = f'{R}/{name}.json'
    if os.path.exists(js):
        try:
            e = json.load(open(js))
            model = next(k for k in ('lstm', 'gru', 'rnn', 'transformer') if k in e)
            out.append(f"36-month MAPE {e[model]['mape']:.2f} MASE {e[model]['mase']:.3f}")
        except Exception as error:  # noqa: BLE001
            out.append(f'json? {error}')
    m = re.search(r'intervals cover ([\d.]+)%', text)
    if m:
        out.append(f'cover {m.group(1)}%')
    steps = re.findall(r'member \d+: (\d+) steps \((\w+)\)', text)
    if steps:
        out.append('steps ' + ','.join(f'{s}({r[:4]})' for s, r in steps[:5]))
    print(' | '.join(out))
