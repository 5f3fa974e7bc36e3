# Joins the expected digests (first input, "sha256  path") with find's "size ctime path" lines
# (second input): one "sha256 size ctime path" line per verified file, for the completion marker.
NR == FNR { sha[substr($0, 67)] = $1; next }
{ p = substr($0, length($1) + length($2) + 3); if (p in sha) print sha[p], $1, $2, p }
