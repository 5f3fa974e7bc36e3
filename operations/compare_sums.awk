# Compares the expected digests (first input, "sha256  path") with openssl's "sha256 *path" lines
# (second input): fails, naming them, unless every expected file was hashed to its digest.
NR == FNR { want[substr($0, 67)] = $1; n++; next }
{ p = substr($0, 67); if ((p in want) && want[p] == $1) { ok++; delete want[p] } }
END { for (p in want) print p ": FAILED"; exit ok != n }
