"""Label-free model selection: ModelCentrality and UDR.

ModelCentrality (Lin, Thekumparampil, Fanti & Oh, "InfoGAN-CR and
ModelCentrality", ICML 2020, Sec. 5) trains a pool of models and keeps the one
that agrees most with the others. A fitted generative model *is* a
ground-truth dataset (:class:`~disentangle.datasets.GeneratedDataset`: its
codes are the factors), so the agreement of models ``i`` and ``j`` is the
FactorVAE score of model ``i``'s encoder on model ``j``'s generated data, the
same metric used on dSprites. Official code (``fjxmlzn/InfoGAN-CR``):
``InfoGAN-CR_dSprites/gan_task_mc_generate_metric_data.py`` (each model's
metric data), ``gan_task_mc_cross_evaluation.py`` (every encoder on every
model's data) and ``main_mc.py`` (symmetrisation, centrality, ranking).

UDR (Duan et al., "Unsupervised Model Selection for Variational Disentangled
Representation Learning", ICLR 2020), the alternative the paper compares with,
instead encodes real observations with every model and scores how one-to-one
the map between two models' codes is (``google-research/disentanglement_lib``,
``disentanglement_lib/evaluation/udr/metrics/udr.py``).

The subpackage owns model selection: the search shell
(:class:`ModelCentralitySelector`, :class:`RandomizedModelCentralitySelector`),
the pairwise runner (:func:`pairwise_similarity`, by column if asked), the
centrality of a matrix (:func:`centrality`) and one table of similarity kinds,
:data:`SIMILARITY_KINDS`, where each kind's defaults, checks, task plan,
orientation and centrality rule live.
"""

from disentangle.metrics._udr import relative_strength
from disentangle.selection._candidates import write_paths
from disentangle.selection._centrality import mean_symmetrised, median_received
from disentangle.selection._pairwise import (
    ADAPTIVE_Z,
    SIMILARITY_PROTOCOLS,
    SampledRows,
    Similarities,
    VotedColumns,
)
from disentangle.selection._search import (
    ModelCentralitySelector,
    RandomizedModelCentralitySelector,
    model_centrality,
)
from disentangle.selection._similarity import (
    SIMILARITIES,
    SIMILARITY_DEFAULTS,
    SIMILARITY_KINDS,
    SimilarityKind,
    centrality,
    images_rendered,
    pairwise_similarity,
)

__all__ = ["ADAPTIVE_Z", "SIMILARITIES", "SIMILARITY_DEFAULTS", "SIMILARITY_KINDS",
           "SIMILARITY_PROTOCOLS", "ModelCentralitySelector", "RandomizedModelCentralitySelector",
           "SampledRows", "Similarities", "SimilarityKind", "VotedColumns", "centrality",
           "images_rendered", "mean_symmetrised", "median_received", "model_centrality",
           "pairwise_similarity", "relative_strength", "write_paths"]
