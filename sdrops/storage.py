"""Static files storage for production: whitenoise's compressed, hashed storage, minus the
rewriting of source-map comments.

Vendored minified libraries (Chart.js) end with `//# sourceMappingURL=…map` for a map file
we do not ship; Django's manifest storage tries to hash that reference and collectstatic
fails, so `make serve` would not start. Browsers only fetch maps with the dev tools open.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    def keep(pattern):
        regex = pattern if isinstance(pattern, str) else pattern[0]
        return "sourceMappingURL" not in regex

    return tuple((glob, tuple(p for p in group if keep(p))) for glob, group in patterns)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
