"""
ModelCentrality: pick a model without labels
============================================

Training the same InfoGAN-CR with different seeds gives models of very
different quality, and without ground truth one cannot tell which is best.
:class:`~disentangle.ModelCentralitySelector` fits a pool (here 4 seeds),
scores every model's encoder on every other model's *generated* data with the
FactorVAE score, and keeps the medoid: the model that agrees most with the
others (Lin et al. 2020, Sec. 5).

:func:`~disentangle.plotting.plot_similarity_matrix` draws the symmetrised
scores; the medoid's row and column are outlined. The pool is tiny (40
iterations per model) and the similarity uses a fraction of the paper's
votes, so the values are only a picture of the mechanics.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from disentangle import InfoGANCR, ModelCentralitySelector
from disentangle.datasets import DSprites
from disentangle.metrics import factor_vae_score
from disentangle.plotting import plot_similarity_matrix

torch.set_num_threads(1)  # the gallery runs on a shared machine

_, images = DSprites().sample(2048, random_state=0)
images = images.astype(np.uint8)

# %%
# The pool: one candidate per seed, as the paper's 10 runs of one setting.
# ``similarity_params`` shrinks the paper's protocol (100 votes of 100 images
# per code, standard deviations over 73,728 images) to 10 votes of 20 images
# per code and 500 images. ``n_jobs=-1`` would fit the candidates in parallel;
# the gallery stays on one core.
selector = ModelCentralitySelector(
    InfoGANCR(max_iter=40, batch_size=16, cr_start=0.5),
    param_grid={"random_state": [0, 1, 2, 3]},
    similarity_params={"votes_per_code": 10, "batch_size": 20, "n_variance": 500},
    random_state=0,
)
start = time.perf_counter()
selector.fit(images)
print(f"fitted and compared {selector.n_candidates_} models in "
      f"{time.perf_counter() - start:.1f} s")

# %%
# Entry (i, j) is the mean of model i's encoder scored on model j's data and
# the reverse. The centrality of a model is the mean of its row, diagonal
# excluded. The plotting functions draw into a figure pyplot does not manage
# unless given one: ``plt.figure`` makes the picture show here (and with
# ``plt.show()`` in a script).
fig = plot_similarity_matrix(selector, fig=plt.figure(figsize=(7, 4.5), layout="constrained"))

# %%
# ``cv_results_`` has one entry per candidate, like ``GridSearchCV``'s:
for params, centrality, rank in zip(selector.cv_results_["params"],
                                    selector.cv_results_["centrality"],
                                    selector.cv_results_["rank_centrality"], strict=True):
    print(f"{params}: centrality {centrality:.3f}, rank {rank}")
print("selected:", selector.best_params_)

# %%
# The selector behaves like its medoid: ``transform``, ``sample`` and the
# metrics use ``best_estimator_``. With ground truth at hand one can check the
# pick against the true FactorVAE score of every candidate (reduced protocol).
# Models this barely trained all score close to chance, so the medoid need not
# be the best of them here; the paper's pools are trained for the full schedule.
data = DSprites()
true_scores = [factor_vae_score(model, data, protocol="paper", n_train=50, n_variance=2000,
                                random_state=0)
               for model in selector.estimators_]
print("true FactorVAE scores:", np.round(true_scores, 2))
print("codes of two images:", selector.transform(images[:2]).round(2))
