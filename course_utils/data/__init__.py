"""The data a lesson reads: the generated shapes and their ImageFolder, folders of your own images, a messy folder,
real solar cells.

generated (the course's seeded ImageFolder and the cache folder), shapes (drawing them), demo (a small picture),
folders (your own folder: splits, checks, opening any image as RGB), messy (a deliberately messy folder),
imbalance (a rare class: weights and a measured study), elpv (2,624 real solar-cell images, offline: reader,
stratified split, class folders). May import: the top-level foundations (paths, plots).
"""
