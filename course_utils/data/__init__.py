"""The data a lesson reads: the generated shapes and their ImageFolder, folders of your own images, a messy folder.

generated (the course's seeded ImageFolder and the cache folder), shapes (drawing them), demo (a small picture),
folders (your own folder: splits, checks, opening any image as RGB), messy (a deliberately messy folder),
imbalance (a rare class: weights and a measured study). May import: the top-level foundations (paths, plots).
"""
