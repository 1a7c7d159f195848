"""COCO's formats: BBOB runs written as the data folders cocopp post-processes, and a cross-check of
optbench's fixed-target figures against cocopp's reading of the same files."""
