"""Standard errors of the FactorVAE similarity: a bootstrap over votes, shared by the encoders.

The paper's protocol (``fjxmlzn/InfoGAN-CR``, ``*/gan/metric.py``) scores its
majority-vote classifier on the very votes it was built from, so an entry of
the similarity matrix is not a proportion of independent trials: a binomial
standard error would ignore that the classifier itself is refitted to the
noise of the votes (with few votes per code each vote can win a dimension of
its own, which biases the score towards 1). The standard error is therefore
a bootstrap over votes (Efron & Tibshirani, *An Introduction to the
Bootstrap*, 1993, Ch. 6): a replicate resamples the votes with replacement,
refits the majority vote and scores it again (for the ``"community"``
protocol the training and evaluation votes are resampled separately and the
refitted classifier is scored on the resampled evaluation votes).

Every encoder of one column (model ``j``'s generated data) reads the same
images, so their entries are correlated; a replicate draws *one* resample of
the vote indices per column and applies it to every encoder, and replicates
of different columns are independent (their votes are). A centrality, or the
difference of two centralities, computed replicate by replicate then has the
right spread without assuming independent entries. The resampling is
stratified by the fixed factor (and by round for the adaptive protocol): the
protocol fixes how many votes each factor gets (the fixed factor cycles over
the factors), and a replicate keeps those counts. The variance sample that
normalises the codes is not resampled: at the paper's 73,728 observations its
noise is far below the votes'.

The resamples are seeded from the column's seed, so the standard errors do
not depend on ``n_jobs``, ``verbose`` or the joblib backend.
"""

import numpy as np

from disentangle.metrics._factor_vae import _active_dims, _variance, _vote_winners


def derived_seed(seed, *keys):
    """A seed in ``[0, 2**32)`` for the stream ``keys`` of column seed ``seed``
    (:class:`numpy.random.SeedSequence`: streams of different keys are independent)."""
    return int(np.random.SeedSequence([int(seed), *keys]).generate_state(1)[0])


class ColumnVotes:
    """The votes drawn on one model's generated data, kept block by block.

    A block is what one task rendered for this column: a variance sample and
    one or two sets of votes (the classifier's, and the evaluation votes of
    ``"community"``), encoded by some of the pool's encoders. The adaptive
    protocol adds a block a round; the other protocols draw one.

    Parameters
    ----------
    eligible : ndarray of int
        The factors (codes of the generating model) a vote may fix.
    n_factors : int
    params : dict
        Resolved :func:`~disentangle.metrics.factor_vae_score` parameters
        (``ddof``, ``prune_threshold``).
    seed : int
        The column's seed; the resamples of block ``b`` and vote set ``s`` are
        seeded with ``derived_seed(seed, b, s, 1)``.
    n_bootstrap : int
        Replicates, ``>= 2``.
    """

    def __init__(self, eligible, n_factors, params, seed, n_bootstrap):
        self.eligible, self.n_factors = eligible, n_factors
        self.ddof, self.prune_threshold = params["ddof"], params["prune_threshold"]
        self.seed, self.n_bootstrap = seed, n_bootstrap
        self.blocks, self._cache = [], {}

    def add(self, n_variance, stats, votes):
        """Keep one block.

        Parameters
        ----------
        n_variance : int
            Observations of the block's variance sample (0: none).
        stats : dict of int to (mean, m2)
            Per encoder (pool index): the variance sample's code means and sums
            of squared deviations (``_factor_vae._draw_votes``).
        votes : list of (fixed, spreads)
            Per vote set: the fixed factors, shape (n,), and per encoder (pool
            index, a dict) the within-vote code variances, shape (n, n_codes).
        """
        number = len(self.blocks)
        resamples = [self._resample(fixed, derived_seed(self.seed, number, s, 1))
                     for s, (fixed, _) in enumerate(votes)]
        self.blocks.append({"n_variance": n_variance, "stats": stats, "votes": votes,
                            "resamples": resamples})

    def _resample(self, fixed, seed):
        """Bootstrap indices into one vote set, shape (n_bootstrap, n), stratified by the
        fixed factor."""
        rng = np.random.RandomState(seed)
        indices = np.empty((self.n_bootstrap, fixed.size), dtype=np.int64)
        for factor in np.unique(fixed):
            members = np.flatnonzero(fixed == factor)
            indices[:, members] = members[rng.randint(members.size,
                                                      size=(self.n_bootstrap, members.size))]
        return indices

    def encoders(self):
        """Pool indices of the encoders with at least one vote in this column."""
        return sorted({i for block in self.blocks for i in block["votes"][0][1]})

    def n_votes(self, i):
        """Votes of the classifier of encoder ``i`` (every block it encoded)."""
        return sum(len(block["votes"][0][0]) for block in self.blocks
                   if i in block["votes"][0][1])

    def global_variance(self, i):
        """Encoder ``i``'s code variances over every variance sample it encoded, pooled.

        Blocks are pooled with Chan, Golub & LeVeque's update ("Algorithms for
        computing the sample variance", The American Statistician 37, 1983); one
        block gives ``np.var`` bit for bit.
        """
        pooled = None
        for block in self.blocks:
            if block["n_variance"] and i in block["stats"]:
                part = (block["n_variance"], *block["stats"][i])
                pooled = part if pooled is None else _pool(pooled, part)
        return _variance(*pooled, self.ddof)

    def scores(self, i):
        """Encoder ``i``'s score on this column and its bootstrap replicates.

        Returns
        -------
        score : float
            The majority-vote accuracy, equal to
            :func:`~disentangle.metrics.factor_vae_scores`' for one block.
        replicates : ndarray of shape (n_bootstrap,), float64
        """
        key = (i, len(self.blocks))
        if key not in self._cache:
            variance = self.global_variance(i)
            active = _active_dims(variance, self.prune_threshold)
            sets = [self._vote_set(i, s, variance, active)
                    for s in range(len(self.blocks[0]["votes"]))]
            train, evaluate = sets[0], sets[-1]
            n_codes = len(variance)
            whole = [(codes, np.arange(codes.size)[None]) for codes, _ in sets]
            score = _accuracies(whole[0], whole[-1], n_codes, self.n_factors, self.eligible,
                                active)[0]
            self._cache = {k: v for k, v in self._cache.items() if k[0] != i}
            self._cache[key] = (float(score), _accuracies(train, evaluate, n_codes,
                                                          self.n_factors, self.eligible,
                                                          active))
        return self._cache[key]

    def _vote_set(self, i, s, variance, active):
        """Encoder ``i``'s votes of set ``s`` over its blocks: ``(codes, indices)`` with
        ``codes = winner * n_factors + fixed`` of each vote, shape (n,), and the bootstrap
        indices into them, shape (n_bootstrap, n)."""
        codes, indices, offset = [], [], 0
        for block in self.blocks:
            fixed, spreads = block["votes"][s]
            if i not in spreads:
                continue
            winners = (_vote_winners(spreads[i], variance, active) if active.size
                       else np.zeros(fixed.size, dtype=np.int64))
            codes.append(winners * self.n_factors + fixed)
            indices.append(block["resamples"][s] + offset)
            offset += fixed.size
        return np.concatenate(codes), np.concatenate(indices, axis=1)


def _pool(a, b):
    """``(n, mean, m2)`` of two samples together, from each one's."""
    (n_a, mean_a, m2_a), (n_b, mean_b, m2_b) = a, b
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * (n_b / n), m2_a + m2_b + delta * delta * (n_a * n_b / n)


def _accuracies(train, evaluate, n_codes, n_factors, eligible, active):
    """Majority-vote accuracy of each resample, shape (n_resamples,), float64.

    Parameters
    ----------
    train, evaluate : (codes, indices)
        Votes as ``winner * n_factors + fixed`` and resamples of them, shape
        (n_resamples, n); the same ``codes`` array in both when the classifier is
        scored on its own votes.
    n_codes, n_factors : int
    eligible, active : ndarray of int

    Returns
    -------
    accuracies : ndarray
        As ``_factor_vae._accuracy(evaluate_counts, _majority_vote(train_counts))``
        for each resample: each active dimension predicts its most voted eligible
        factor (ties: the lowest), 0.0 without active dimensions.
    """
    n_resamples, n_eval = evaluate[1].shape
    if not active.size:
        return np.zeros(n_resamples)
    train_counts = _counts(*train, n_codes, n_factors)
    mapping = eligible[np.argmax(train_counts[:, active][:, :, eligible], axis=2)]
    eval_counts = (train_counts if evaluate[0] is train[0]
                   else _counts(*evaluate, n_codes, n_factors))
    correct = np.take_along_axis(eval_counts[:, active], mapping[..., None], axis=2)
    return correct.sum(axis=(1, 2)) / n_eval


def _counts(codes, indices, n_codes, n_factors):
    """Vote counts of each resample, shape (n_resamples, n_codes, n_factors), int64."""
    cells = n_codes * n_factors
    flat = (np.arange(len(indices))[:, None] * cells + codes[indices]).ravel()
    return np.bincount(flat, minlength=len(indices) * cells).reshape(-1, n_codes, n_factors)
