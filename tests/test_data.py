"""nas.data: folder/archive sources, the decode-once cache, stratified splits, batched
augmentation. Real images from shared/data; no mocks."""
from __future__ import annotations

import itertools

import pytest
import torch
from torchvision import transforms

from nas.data import Augment, DataConfig, ImageTensors, load_proxy_data, stratified_split
from nas.data.archive import FolderSource
from nas.data.augment import normalize
from nas.data.cache import cached_tensors

TINY = "tiny-imagenet-10cls.tar.gz"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cellnas-cache")


def test_archive_lists_splits_and_extracts_only_the_chosen_members(shared_data, cache):
    source = FolderSource(shared_data / TINY, cache)
    assert source.splits() == ["tiny-imagenet-10cls/train", "tiny-imagenet-10cls/val"]
    files = source.files("train")
    assert len(files) == 10 and all(len(v) == 100 for v in files.values())
    assert list(files) == sorted(files)
    chosen = [f for v in files.values() for f in v[:3]]
    root = source.materialize(chosen)
    extracted = [p for p in root.rglob("*.JPEG")]
    assert len(extracted) == 30
    with pytest.raises(ValueError, match="split 'test' not found.*tiny-imagenet-10cls/val"):
        source.files("test")


def test_folder_proxy_data_split_subset_resolution(shared_data, cache):
    cfg = DataConfig(dataset=str(shared_data / TINY), cache_dir=str(cache), classes=4, per_class=40,
                     resolution=24, val_fraction=0.25, load_test=True, test_per_class=10)
    data = load_proxy_data(cfg)
    assert (len(data.train), len(data.val), len(data.test)) == (120, 40, 40)
    assert data.train.images.shape[1:] == (3, 24, 24) and data.train.images.dtype == torch.uint8
    assert data.train.class_counts() == [30] * 4 and data.val.class_counts() == [10] * 4
    assert data.num_classes == 4 and data.train.classes == data.test.classes
    assert data.train.classes == tuple(sorted(data.train.classes))
    # normalization statistics are the training part's, shared by val and test
    x = data.train.images.double() / 255
    assert data.train.mean[0] == pytest.approx(x[:, 0].mean().item(), abs=1e-9)
    assert data.val.mean == data.train.mean == data.test.mean
    # the second load is served from the cache and equal
    again = load_proxy_data(cfg)
    assert torch.equal(again.train.images, data.train.images) and torch.equal(again.val.labels, data.val.labels)


def test_cache_builds_once_per_key(tmp_path):
    calls = []

    def make():
        calls.append(1)
        return {"images": torch.arange(6, dtype=torch.uint8), "classes": ["a", "b"]}

    first = cached_tensors(tmp_path, "x", {"split": "train", "per_class": 3}, make)
    second = cached_tensors(tmp_path, "x", {"split": "train", "per_class": 3}, make)
    third = cached_tensors(tmp_path, "x", {"split": "train", "per_class": 4}, make)
    assert len(calls) == 2 and torch.equal(first["images"], second["images"]) and third["classes"] == ["a", "b"]


def test_stratified_split_is_seeded_disjoint_and_balanced():
    labels = torch.arange(10).repeat_interleave(20)
    train, val = stratified_split(labels, 0.2, seed=3)
    assert len(set(train.tolist()) | set(val.tolist())) == 200 and len(val) == 40
    assert torch.bincount(labels[val]).tolist() == [4] * 10
    assert torch.equal(stratified_split(labels, 0.2, seed=3)[1], val)
    assert not torch.equal(stratified_split(labels, 0.2, seed=4)[1], val)
    with pytest.raises(ValueError, match="val_fraction"):
        stratified_split(labels, 1.0, seed=0)


def test_crop_flip_outputs_are_windows_of_the_padded_image():
    images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    out = Augment(crop_padding=2, flip=True).crop_flip(images, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    offsets = set()
    for i in range(16):
        hits = [(dy, dx, f) for dy, dx, f in itertools.product(range(5), range(5), (False, True))
                if torch.equal(out[i], (padded[i].flip(-1) if f else padded[i])[:, dy:dy + 8, dx:dx + 8])]
        assert hits, f"sample {i} is not a crop of its padded image"
        offsets.update(hits)
    assert len(offsets) > 4  # offsets and flips actually vary across the batch


def test_augment_is_reproducible_from_the_generator_and_normalizes_like_torchvision():
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    aug = Augment(crop_padding=2, flip=True, cutout=4)
    a = aug(images, torch.Generator().manual_seed(7), mean, std)
    b = aug(images, torch.Generator().manual_seed(7), mean, std)
    assert torch.equal(a, b) and a.dtype == torch.float32
    reference = transforms.Normalize(mean, std)(images.float() / 255)
    assert torch.allclose(normalize(images, mean, std), reference, atol=1e-6)


def test_cutout_zeroes_one_clipped_square_per_image():
    mask = Augment(cutout=4).cutout_mask(64, 10, 10, torch.Generator().manual_seed(1), torch.device("cpu"))
    zeros = (mask == 0).sum(dim=(1, 2, 3))
    assert zeros.max().item() == 16 and zeros.min().item() >= 4  # a corner clips a 4x4 to >= 2x2
    for m in mask[:, 0]:
        rows, cols = torch.nonzero(m == 0, as_tuple=True)
        assert (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) == len(rows)  # a rectangle


def test_missing_cifar_is_one_clear_error(tmp_path):
    cfg = DataConfig(dataset="cifar10", root=str(tmp_path / "nothing"), cache_dir=str(tmp_path / "c"))
    with pytest.raises(FileNotFoundError, match=r"cifar-10-batches-py.*download=True.*JPEG folder"):
        load_proxy_data(cfg)


@pytest.mark.parametrize("field, value, message", [
    ("per_class", 0, "data.per_class"),
    ("val_fraction", 1.5, "data.val_fraction"),
    ("resolution", -3, "data.resolution"),
])
def test_data_config_rejects_bad_values(field, value, message):
    with pytest.raises(ValueError, match=message):
        DataConfig(**{field: value})
    with pytest.raises(ValueError, match="unknown data option"):
        DataConfig.from_dict({"per_klass": 3})


def test_bad_classes_and_paths_name_what_exists(shared_data, tmp_path):
    with pytest.raises(ValueError, match="unknown classes.*n01443537"):
        load_proxy_data(DataConfig(dataset=str(shared_data / TINY), cache_dir=str(tmp_path),
                                   classes=("nope",)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_proxy_data(DataConfig(dataset=str(tmp_path / "missing.tar.gz"), cache_dir=str(tmp_path)))


def test_image_tensors_are_picklable_plain_data():
    import pickle

    t = ImageTensors(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]), ("a", "b"),
                     (0.5,) * 3, (0.25,) * 3)
    back = pickle.loads(pickle.dumps(t))
    assert torch.equal(back.images, t.images) and back.classes == ("a", "b") and back.resolution == 4
    with pytest.raises(TypeError, match="uint8"):
        ImageTensors(torch.zeros(2, 3, 4, 4), torch.tensor([0, 1]), ("a", "b"), (0.5,) * 3, (0.25,) * 3)


def test_a_directory_and_its_archive_give_the_same_tensors(shared_data, cache, tmp_path):
    archive = FolderSource(shared_data / TINY, cache)
    chosen = [f for split in ("train", "val") for v in archive.files(split).values() for f in v[:5]]
    folder = archive.materialize(chosen) / "tiny-imagenet-10cls"
    common = dict(per_class=5, test_per_class=5, resolution=16, val_fraction=0.2, load_test=True)
    from_dir = load_proxy_data(DataConfig(dataset=str(folder), cache_dir=str(tmp_path), **common))
    from_tar = load_proxy_data(DataConfig(dataset=str(shared_data / TINY), cache_dir=str(cache), **common))
    assert torch.equal(from_dir.train.images, from_tar.train.images)
    assert torch.equal(from_dir.test.labels, from_tar.test.labels) and from_dir.test.classes == from_tar.test.classes
