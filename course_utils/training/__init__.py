"""Training, evaluation and the recipe, in pipeline order.

loop (train_one_epoch, evaluate, fit), finetune (strategies trained fairly), parallel (runs in worker processes),
comparison (strategies over seeds, paired verdicts), recipe (the two-phase recipe for your own images, checkpoints,
predictions), evaluation (per-class results, confusion matrix), probe (a seeded head on cached features; accuracy,
balanced accuracy, recall; the threshold for a recall), tta (the 8 symmetries of a square image), gradcam (where
the network looks), results (numbers a later lesson compares with).
May import: models, data and the top-level foundations.
"""
