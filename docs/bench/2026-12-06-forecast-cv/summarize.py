import re, sys, glob, os
R='/tmp/fc-runs'
def cpu(name):
    try: t=open(f'{R}/{name}.time').read()
    except: return None, None
    if "User time" not in t: return None, None
    u=float(re.search(r'User time \(seconds\): ([\d.]+)',t).group(1)); s=float(re.search(r'System time \(seconds\): ([\d.]+)',t).group(1))
    w=re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)',t).group(1)
    return u+s, w
for log in sorted(glob.glob(f'{R}/*.log')):
    name=os.path.basename(log)[:-4]
    text=open(log).read()
    c,w=cpu(name)
    d=re.search(r'^differencing: (\w+), .*?\(([^()]*?)\); the test part', text, re.M)
    comb=re.search(r'combination \(--combine (\d)\): the forecasts of the ([\w, ]+) differencings\' models averaged \(their cross-validated MAE ([\d.]+)\)', text)
    folds=re.search(r'the mean over (\d+) rolling-origin folds of (\d+) rows each, origins (\d+) rows apart', text)
    out=[name, f'cpu={c:.1f}s wall={w}' if c else 'running?']
    if d: out.append(f'chose {d.group(1)} ({d.group(2)})')
    if folds: out.append(f'folds {folds.group(1)}x{folds.group(2)} step {folds.group(3)}')
    if comb: out.append(f'combine {comb.group(2)} cvMAE {comb.group(3)}')
    m=re.search(r'^(lstm|gru|rnn|transformer)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)', text, re.M)
    if m: out.append(f'MAE {m.group(2)} RMSE {m.group(3)} MAPE {m.group(4)} sMAPE {m.group(5)} MASE {m.group(6)}')
    m=re.search(r'^\| \**(lstm|gru|rnn|transformer)\** \| (.*)$', text, re.M)
    if m: out.append('BT '+m.group(2))
    m=re.search(r'intervals cover ([\d.]+)%', text)
    if m: out.append(f'cover {m.group(1)}%')
    m=re.search(r'member \d: (\d+) steps \((\w+)', text)
    if 'timeLimit' in text or 'time limit' in text: out.append('TIME-LIMIT-HIT?')
    print(' | '.join(out))
