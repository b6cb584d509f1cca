"""Datasets on disk: the decoded-tensor cache follows the folder's content (a class added, an image
replaced), corrupt images are skipped and reported or, when many, refused naming them, and bad
archives (truncated, absolute or '..' members) fail naming the archive; a one-class set is refused."""
from __future__ import annotations

import pytest

from nas.data import DataConfig, load_proxy_data
from reliability_helpers import image_folder, jpeg_bytes, tar_with


def config(path, tmp_path, **kw) -> DataConfig:
    return DataConfig(dataset=str(path), cache_dir=str(tmp_path / "cache"), val_fraction=0.25, **kw)


def test_cache_follows_the_folder_content(tmp_path, capsys):
    root = image_folder(tmp_path / "set", classes=("ant", "bee"), per_class=4)
    first = load_proxy_data(config(root, tmp_path))
    assert first.train.classes == ("ant", "bee") and "changed" not in capsys.readouterr().err
    image_folder(root, classes=("cat",), per_class=4)  # a class added in place
    second = load_proxy_data(config(root, tmp_path))
    assert second.train.classes == ("ant", "bee", "cat")
    assert len(second.train) + len(second.val) == 12
    assert "changed since it was cached (16 -> 24 files" in capsys.readouterr().err
    # same size, new pixels: an image replaced by another one
    target = root / "train" / "ant" / "000.jpg"
    before = load_proxy_data(config(root, tmp_path)).train.images.clone()
    target.write_bytes(jpeg_bytes(99))
    after = load_proxy_data(config(root, tmp_path))
    assert "changed since it was cached" in capsys.readouterr().err
    assert not (before.shape == after.train.images.shape and (before == after.train.images).all())
    load_proxy_data(config(root, tmp_path))  # unchanged now: served from the cache, silently
    assert "changed" not in capsys.readouterr().err


def test_one_corrupt_image_is_skipped_and_reported(tmp_path, capsys):
    root = image_folder(tmp_path / "set", per_class=12)
    (root / "train" / "bee" / "005.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    data = load_proxy_data(config(root, tmp_path))
    assert len(data.train) + len(data.val) == 23
    err = capsys.readouterr().err
    assert "skipped 1 unreadable image(s) of 24" in err and "train/bee/005.jpg" in err


def test_many_corrupt_images_fail_naming_them(tmp_path):
    root = image_folder(tmp_path / "set", per_class=4)
    for i in range(3):
        (root / "train" / "ant" / f"00{i}.jpg").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"3 of 8 images .* unreadable \(first: train/ant/000.jpg"):
        load_proxy_data(config(root, tmp_path))


def test_one_class_dataset_is_refused(tmp_path):
    root = image_folder(tmp_path / "single", classes=("ant",), per_class=4)
    with pytest.raises(ValueError, match=r"'train' has 1 class\(es\) \['ant'\].*at least 2"):
        load_proxy_data(config(root, tmp_path))


@pytest.mark.parametrize("member", ["/tmp/evil/train/ant/0.jpg", "../outside/train/ant/0.jpg",
                                    "set/train/../../ant/0.jpg"])
def test_archive_with_unsafe_member_paths_is_refused(tmp_path, member):
    good = {f"set/train/{c}/{i}.jpg": jpeg_bytes(i) for c in ("ant", "bee") for i in range(3)}
    archive = tar_with(tmp_path / "evil.tar.gz", {**good, member: jpeg_bytes(7)})
    with pytest.raises(ValueError, match=r"evil.tar.gz: unsafe member path .*absolute or with '\.\.'"):
        load_proxy_data(config(archive, tmp_path))
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "outside").exists()


def test_truncated_archive_names_the_archive(tmp_path):
    members = {f"set/train/{c}/{i}.jpg": jpeg_bytes(i, size=64) for c in ("ant", "bee") for i in range(20)}
    archive = tar_with(tmp_path / "full.tar.gz", members)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"cut.tar.gz: corrupt or truncated archive"):
        load_proxy_data(config(cut, tmp_path))
