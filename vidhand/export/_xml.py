"""Small ElementTree helpers shared by the two Final Cut XML writers."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def sub(parent: ET.Element, tag: str, text: object | None = None, **attrib: str) -> ET.Element:
    """Append child ``tag`` with optional text and attributes; return it."""
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = str(text)
    return el


def to_string(root: ET.Element, doctype: str) -> str:
    """Serialise ``root`` indented, with an XML declaration and ``<!DOCTYPE doctype>``."""
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {doctype}>\n{body}\n'
