"""search_spaces.catalog: every named architecture resolves by name, by string and by JSON file."""
import json

import pytest

from search_spaces import catalog

NAMED = catalog.named()


def test_the_papers_architectures_are_named():
    expected = {"nasnet_a_mobile", "nasnet_a_large", "amoebanet_a_cifar", "darts_v1", "darts_v2",
                "darts_v2_imagenet", "mnasnet_a1", "mnasnet_b1", "nb201_resnet"}
    expected |= {f"efficientnet_b{i}" for i in range(8)}
    assert expected <= set(NAMED)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_resolves_by_name_string_and_json(name, tmp_path):
    spec = NAMED[name]
    space = catalog.space_for(spec)
    assert catalog.resolve(name.upper()) == spec
    assert catalog.resolve(space.to_str(spec)) == spec
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"spec": space.to_dict(spec)}))
    assert catalog.resolve(str(path)) == spec


@pytest.mark.parametrize("text", ["resnet_9000", "cell:normal=bogus", "blocks:stem_c32,zz_r1", "|nope~0|"])
def test_bad_input_is_one_value_error(text):
    with pytest.raises(ValueError):
        catalog.resolve(text)


def test_missing_json_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        catalog.resolve(str(tmp_path / "absent.json"))
