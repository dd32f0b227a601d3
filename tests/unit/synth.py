"""Helpers to read a synthesized stack (the cdk.tf.json document)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_ASSET_PATH = re.compile(r"assets/([^/\"]+)/[0-9A-F]{32}/archive\.zip")
_ASSET_HASH = re.compile(r'"source_code_hash": "[0-9A-F]{32}"')


@dataclass
class SynthesizedStack:
    stack: Any  # the TapStack, for cdktf's Testing helpers
    text: str  # Testing.synth output
    document: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.document = json.loads(self.text)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.document.get("resource", {}).get(resource_type, {})
        return found

    def only(self, resource_type: str) -> dict[str, Any]:
        (resource,) = self.resources(resource_type).values()
        return resource

    def named(self, resource_type: str, name_field: str, name: str) -> dict[str, Any]:
        matches = [r for r in self.resources(resource_type).values() if r.get(name_field) == name]
        assert len(matches) == 1, f"expected one {resource_type} with {name_field}={name!r}, got {len(matches)}"
        return matches[0]

    def policy_document(self, reference: str) -> dict[str, Any]:
        """The aws_iam_policy_document data source a ``${data...json}`` reference points at."""
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", reference)
        assert match, f"not a policy document reference: {reference}"
        document: dict[str, Any] = self.document["data"]["aws_iam_policy_document"][match.group(1)]
        return document

    def live_reference(self, function: dict[str, Any], attribute: str) -> str:
        """``attribute`` of the ``live`` alias of ``function`` (an aws_lambda_function): what every
        event source invokes."""
        function_name = self.reference_of("aws_lambda_function", function, "function_name")
        (alias,) = [
            a
            for a in self.resources("aws_lambda_alias").values()
            if a["function_name"] == function_name and a["name"] == "live"
        ]
        return self.reference_of("aws_lambda_alias", alias, attribute)

    def reference_of(self, resource_type: str, resource: dict[str, Any], attribute: str) -> str:
        for logical_id, candidate in self.resources(resource_type).items():
            if candidate is resource:
                return f"${{{resource_type}.{logical_id}.{attribute}}}"
        raise AssertionError(f"{resource_type} not in stack")


def platform_key(stack: SynthesizedStack) -> dict[str, Any]:
    """The platform's encryption CMK (the other key, HMAC_256, only signs list tokens; prod's DR key
    lives in the DR region, through the stack's second provider)."""
    (key,) = [
        k
        for k in stack.resources("aws_kms_key").values()
        if k.get("key_usage") != "GENERATE_VERIFY_MAC" and "provider" not in k
    ]
    return key


def key_arn(stack: SynthesizedStack) -> str:
    return stack.reference_of("aws_kms_key", platform_key(stack), "arn")


def normalized(text: str) -> str:
    """Synth output with asset hashes replaced: they change with every handler edit."""
    text = _ASSET_PATH.sub(r"assets/\1/<asset-hash>/archive.zip", text)
    return _ASSET_HASH.sub('"source_code_hash": "<asset-hash>"', text)


_JSONENCODE = re.compile(r"\$\{jsonencode\((.*)\)\}", re.DOTALL)
# Outside a string literal: a bare Terraform reference (aws_x.name.attribute) or a literal keyword.
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_KEYWORDS = frozenset({"true", "false", "null"})


def jsonencoded(expression: str) -> Any:
    """The value of a ``${jsonencode(...)}`` attribute as Terraform will encode it: what the
    resource receives, after cdktf's rendering (which drops None values, for one). Object
    ``"key" = value`` becomes ``"key": value``; a bare reference becomes its text as a string.
    Only the HCL cdktf writes for Python literals: objects, lists, strings, numbers, booleans."""
    match = _JSONENCODE.fullmatch(expression)
    assert match, f"not a jsonencode expression: {expression[:80]}"
    hcl, out, at = match.group(1), [], 0
    while at < len(hcl):
        char = hcl[at]
        if char == '"':  # copy the string literal whole, escapes included
            end = at + 1
            while hcl[end] != '"':
                end += 2 if hcl[end] == "\\" else 1
            out.append(hcl[at : end + 1])
            at = end + 1
        elif char == "=":
            out.append(":")
            at += 1
        elif bare := _BARE.match(hcl, at):
            word = bare.group()
            out.append(word if word in _KEYWORDS else json.dumps(word))
            at = bare.end()
        else:
            out.append(char)
            at += 1
    return json.loads("".join(out))
