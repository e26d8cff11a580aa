"""sealbench analysis: from a run folder (cells.csv, samples/, micro.csv, manifest.json) to the
tables, figures, report page and comparisons of the paper. Run with /usr/bin/python3 (Debian's
pandas, matplotlib and scipy); see analysis/README.md."""
