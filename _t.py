import numpy as np, time
from tinygrad_nd.tensor import Tensor
from tinygrad_nd.experiments.common import *
from tinygrad_nd.experiments.vanishing_at_init import *
xs, ys, *_ = load_images("digits", 1000, seed=0)
x, y = Tensor(xs), Tensor(one_hot(ys))
t=time.process_time()
print([np.round(b,4) for b in bias_gradients(build_net([784,30,30,10]), x, y)])
for r in layer_arithmetic(build_net([784,30,30,30,30,10]), x, y): print({k: round(v,4) for k,v in r.items()})
print(weight_regimes([784,30,30,30,30,10], x, y, 5))
print(activation_spread(build_net([784,30,30,30,30,10]), x))
print(time.process_time()-t)
