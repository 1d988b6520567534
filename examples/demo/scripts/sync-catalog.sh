#!/bin/sh
# BIDIRECTIONAL: catalog.txt lists the templates. A name added to the catalog
# gets a template stub; a template added to templates/ gets a catalog line.
set -eu
mkdir -p templates
touch catalog.txt
created=0
while IFS= read -r name; do
  [ -n "$name" ] || continue
  if [ ! -f "templates/$name.html" ]; then
    if [ "${DRIFTSYNC_DRY_RUN:-0}" = 1 ]; then
      echo "dry run: would create templates/$name.html"
    else
      printf '<!-- %s -->\n<h1>%s</h1>\n' "$name" "$name" > "templates/$name.html"
      created=$((created + 1))
    fi
  fi
done < catalog.txt
if [ "${DRIFTSYNC_DRY_RUN:-0}" != 1 ]; then
  ls templates | sed -n 's/\.html$//p' | sort > catalog.txt.new
  mv catalog.txt.new catalog.txt
fi
echo "$created template(s) created; catalog lists $(wc -l < catalog.txt | tr -d ' ')"
