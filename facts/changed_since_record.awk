# Reads find's "type owner group mode size ctime path" lines of the release and prints them as
# "entry" lines, after the record's first line ("marker") and its number of files ("recorded");
# then hashes the files not in the record or recorded with another size or ctime ("sum" lines,
# sha256sum's output, run in the folder $D only when there is any).
BEGIN {
  if ((getline line < rec) >= 0) {
    print "marker " line
    while ((getline line < rec) > 0) {
      n++
      split(line, w, " ")
      known[substr(line, length(w[1]) + length(w[2]) + length(w[3]) + 4)] = w[2] " " w[3]
    }
    print "recorded " n
  }
}
{ print "entry " $0 }
$1 == "f" {
  path = substr($0, length($1 $2 $3 $4 $5 $6) + 7)
  if (path != marker && known[path] != $5 " " $6) todo[++m] = path
}
END {
  fflush()  # the entries before the sums: both go to the same stdout
  hash = "cd \"$D\" && xargs -d '\\n' -r sha256sum -- | sed 's/^/sum /'"
  for (i = 1; i <= m; i++) print todo[i] | hash
  if (m) close(hash)
}
