"""Reports built from the records store: the inspection report per terminal and the quarterly
service report per customer, as HTML and PDF, archived with their content hash."""
