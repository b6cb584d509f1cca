"""Datasets for proxy and full training: CIFAR through torchvision, ImageNet-style folder sets
(directories or archives), decoded once into cached uint8 tensors and augmented in batches on
the device that trains."""
from nas.data.augment import Augment
from nas.data.datasets import DataConfig, load_proxy_data, load_split
from nas.data.tensors import ImageTensors, ProxyData, channel_stats, stratified_split

__all__ = ["Augment", "DataConfig", "ImageTensors", "ProxyData", "channel_stats", "load_proxy_data",
           "load_split", "stratified_split"]
