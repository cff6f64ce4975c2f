"""CPU seconds of steps FIRST+1..LAST of a `sequent ... train` run, read from outside: the
command runs with --steps far beyond LAST (so no checkpoint and no evaluation falls in the
window, and the learning-rate schedule is the same for every LAST); its metrics.jsonl is
polled every 10 ms, and when the line of step FIRST and then of step LAST appears, the
process's CPU time (user + sys of all its threads, /proc/PID/stat, 10 ms ticks) is read;
the process is then killed. Prints one JSON object: the CPU seconds of the window, its steps,
the target tokens of those steps (tokens_per_s x step_s of each step line), the loss at LAST.
Usage: steptime.py FIRST LAST OUT_DIR COMMAND... (the command must write OUT_DIR/metrics.jsonl)."""
import json, os, signal, subprocess, sys, time

first, last, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
process = subprocess.Popen(sys.argv[4:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    fields = open(f"/proc/{process.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15)
marks, records, seen = {}, {}, 0
path = os.path.join(out, "metrics.jsonl")
while last not in marks:
    if process.poll() is not None:
        sys.exit(f"steptime: the command ended (status {process.returncode}) before step {last}")
    if os.path.exists(path):
        with open(path) as log:
            lines = log.read().split("\n")[:-1]  # complete lines only
        for line in lines[seen:]:
            record = json.loads(line)
            if "tokens_per_s" in record:
                records[record["step"]] = record
                if record["step"] in (first, last): marks[record["step"]] = cpu()
        seen = len(lines)
    time.sleep(0.01)
process.send_signal(signal.SIGKILL)
process.wait()
window = [records[s] for s in range(first + 1, last + 1)]
print(json.dumps({"cpu_s": round(marks[last] - marks[first], 3), "steps": last - first,
                  "target_tokens": sum(round(r["tokens_per_s"] * r["step_s"]) for r in window),
                  "loss": records[last]["loss"]}))
