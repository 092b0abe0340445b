"""Stage 1, load: pack files (or posted text) → one located document; packs found by id in a
library; ``extends`` resolved into one :class:`engine.core.model.Pack`."""
