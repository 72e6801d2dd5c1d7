"""The store: the cache directory's entries (values fetched and stored by key), packs of a file's
blocks, per-file artefacts, whole reports and the memo of answers about single texts.

Layout (default `.auditor_cache/` next to the config file, else in the working directory):

    .auditor_cache/
      .gitignore        "*": the cache never ends up in a commit
      CACHEDIR.TAG      backup tools skip it
      v1/<key>.pack     one input file's blocks: their normalized rows (Arrow IPC) + line issues + formats,
                        or their values of one artefact registered with `ctx.per_file(...)`
      v1/<key>.delta    the blocks an edited file's pack lacks, beside it (see `packs.put_pack`)
      v1/<key>.art      one file's value of an artefact that is not row-aligned
      v1/<key>.report   one whole report
      memo/<name>.memo  answers about single texts (see `memo`)

Every key names the code that produced the entry (see `code`). The cache never changes a report: a
warm or partly warm run gives byte-identical JSON to a cold run.
"""

from .entries import CACHE_DIR_NAME, Cache, CacheMiss, default_cache_dir, open_cache
from .packs import Pack, get_pack, pack_name, put_pack

__all__ = ["CACHE_DIR_NAME", "Cache", "CacheMiss", "Pack", "default_cache_dir", "get_pack", "open_cache",
           "pack_name", "put_pack"]
