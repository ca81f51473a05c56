import numpy as np, time
from tinygrad_nd.experiments.common import *
from tinygrad_nd.experiments.saturation import *
xs, ys, xt, yt, _ = load_images("digits", 1000, seed=0)
t=time.process_time()
r = top_layer_saturation(xs, ys, xt[:500], yt[:500])
print(np.round(r["mean"][::5],3), r["probe_accuracy"], time.process_time()-t)
for c in ("quadratic","cross-entropy"):
    run = cost_slowdown(c); print(c, np.abs(run["delta"]-run["formula"]).max(), first_epoch_below(run["a"],0.5))
