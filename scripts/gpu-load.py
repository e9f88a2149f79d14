# GPU load for the verification run: hold 92 % of memory, then a short spike of bf16
# matrix products, idle, then sustained products. Prints a line at each phase change.
import sys, time
import torch

def busy(seconds, a, b):
    end = time.time() + seconds
    while time.time() < end:
        torch.mm(a, b)
        torch.cuda.synchronize()

a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
torch.mm(a, b); torch.cuda.synchronize()
free, total = torch.cuda.mem_get_info()
fill = int(total * 0.92) - (total - free)
hold = torch.empty(max(fill, 0), dtype=torch.uint8, device="cuda")
torch.cuda.synchronize()
free, total = torch.cuda.mem_get_info()
print(f"allocated used={(total - free) / 2**20:.0f}MiB total={total / 2**20:.0f}MiB", flush=True)
phases = [("idle", 11), ("spike", 3), ("idle", 7), ("sustained", 12)]
for name, seconds in phases:
    print(f"phase {name} {seconds}s t={time.time():.3f}", flush=True)
    if name == "idle":
        time.sleep(seconds)
    else:
        busy(seconds, a, b)
print("done", flush=True)
