"""TF-free code shared by training, the model server, the gateway and servectl: the servable contracts,
the on-disk model repository and the manifest. Nothing here may import TensorFlow (the gateway uses it)."""
