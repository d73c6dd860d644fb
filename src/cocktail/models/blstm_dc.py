"""The mask network's BLSTM trained with the deep-clustering loss instead of a mask target.

Same network as `blstm` (2 BLSTM layers), with an embedding head (unit-length tanh, D per
bin) and the low-rank deep-clustering loss; k-means on the embeddings at inference. Beside
`blstm` it isolates what the loss buys; beside `dpcl` what depth and width buy. Reference
("paper") settings: 2 BLSTM layers of 300 per direction, D = 40."""

from cocktail.models.base import CLUSTERING, EMBEDDING_NETWORK_PARAMS, EMBEDDING_NETWORK_TINY, Architecture, embedding_pairs
from cocktail.models.dpcl import embedding_network, nearest_centre_masks
from cocktail.models.losses import deep_clustering_loss

ARCHITECTURE = Architecture(
    name="blstm_dc",
    inference=CLUSTERING,
    params=EMBEDDING_NETWORK_PARAMS,
    reference={"hidden": 300, "layers": 2, "embedding_dim": 40},
    tiny=EMBEDDING_NETWORK_TINY,
    build=lambda section, n_bins, n_sources: embedding_network(section, n_bins, "blstm_dc"),
    loss=lambda section: deep_clustering_loss,
    training_pairs=embedding_pairs,
    embedding_masks=nearest_centre_masks,
)
