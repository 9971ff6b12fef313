"""The Java ``u:`` functions given to ph-schematron-pure equal Peppol's XSLT originals.

PEPPOL-EN16931-UBL.sch defines its check-digit helpers (``u:gln``, ``u:mod11``, ``u:slack``, ...)
as ``xsl:function``s, which an XPath-only engine cannot read; the Java CLI supplies Java versions
(``tests/interop/java/.../PeppolUtils.java``). For the Java engine to stay a faithful oracle they
must compute what the originals compute. Here the originals, copied verbatim out of the pinned
.sch into a stylesheet, run on SaxonC over a few hundred inputs (edge cases, random strings, and
for the check-digit functions every last digit of random stems so that both outcomes occur); the
Java versions run on the same inputs; results must be equal, and an input that makes the original
raise an error must make the Java version raise one.
"""

from __future__ import annotations

import random
from collections import Counter

from lxml import etree

from harness.peppol import rulesets as rs
from harness.xml import schematron as sch

from . import support
from .javatool import JavaTool

XSL = "http://www.w3.org/1999/XSL/Transform"

#: name -> arity of every function the .sch defines
FUNCTIONS: dict[str, int] = {
    "gln": 1,
    "slack": 3,
    "mod11": 1,
    "mod97-0208": 1,
    "checkCodiceIPA": 1,
    "checkCF": 1,
    "checkCF16": 1,
    "checkPIVAseIT": 1,
    "checkPIVA": 1,
    "addPIVA": 2,
    "abn": 1,
    "TinVerification": 1,
    "checkSEOrgnr": 1,
}
#: functions whose results must include both true and false over the inputs
BOOLEAN_CHECKS = (
    "gln",
    "mod11",
    "mod97-0208",
    "checkCodiceIPA",
    "checkCF",
    "checkCF16",
    "checkPIVAseIT",
    "abn",
    "TinVerification",
    "checkSEOrgnr",
    "slack",
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def calls() -> list[tuple[str, ...]]:
    rng = random.Random(20261127)
    edge = [
        "",
        "0",
        "1",
        "9",
        " 12",
        "12 ",
        "+123",
        "-123",
        "1.5",
        "abc",
        "A1B2C3",
        "٣٤٥",
        "12a45",
        "0000000000000",
    ]
    out: list[tuple[str, ...]] = []
    lengths = {
        "gln": (8, 13, 14),
        "mod11": (9,),
        "mod97-0208": (10,),
        "abn": (11,),
        "TinVerification": (9,),
        "checkSEOrgnr": (10,),
    }
    for name, lens in lengths.items():
        out += [(name, v) for v in edge if name != "mod97-0208" or v.isdigit()]
        for n in lens:
            for _ in range(6):
                stem = _digits(rng, n - 1)
                out += [(name, stem + d) for d in "0123456789"]
        out += [(name, _digits(rng, rng.randint(0, 15))) for _ in range(10)]
    for _ in range(6):  # mod97-0208 checks two digits: try the right pair and its neighbours
        stem = _digits(rng, 8)
        check = 97 - int(stem) % 97
        out += [
            ("mod97-0208", f"{stem}{c:02d}") for c in (check - 1, check, check + 1) if 0 <= c <= 99
        ]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    for _ in range(25):
        cf16 = (
            "".join(rng.choice(letters) for _ in range(6))
            + _digits(rng, 2)
            + rng.choice(letters)
            + _digits(rng, 2)
            + "".join(rng.choice(letters + "0123") for _ in range(3))
            + rng.choice("0123456789" * 3 + "X")
            + rng.choice(letters + "5")
        )
        out += [
            ("checkCF", cf16),
            ("checkCF16", cf16),
            ("checkCF", _digits(rng, 11)),
            ("checkCF", _digits(rng, 10)),
        ]
        out += [
            (
                "checkCodiceIPA",
                "".join(
                    rng.choice(letters + "0123456789-") for _ in range(rng.choice((5, 6, 6, 7)))
                ),
            )
        ]
        stem = _digits(rng, 10)
        out += [
            ("checkPIVAseIT", prefix + stem + d)
            for prefix in ("IT", "it")
            for d in "0123456789"[:3]
        ]
        out += [
            ("checkPIVAseIT", "DE" + stem),
            ("checkPIVA", stem + "1"),
            ("addPIVA", stem, str(rng.randint(0, 1))),
        ]
    out += (
        [("checkCF", v) for v in edge]
        + [("checkCodiceIPA", v) for v in edge]
        + [("checkPIVAseIT", v) for v in ("", "IT", "IT123", "it" + "1" * 11)]
    )
    for _ in range(40):
        exp = f"{rng.randint(-500, 500)}.{rng.randint(0, 99):02d}"
        delta = rng.choice(["0", "0.01", "0.02", "-0.02", "0.03", "-0.03", "0.021", "1"])
        from decimal import Decimal

        val = str(Decimal(exp) + Decimal(delta))
        out.append(("slack", exp, val, "0.02"))
    return out


def _stylesheet() -> str:
    """The .sch's functions, copied verbatim, and a template that calls them per input line."""
    sch_path = support.store().path(rs.get_ruleset("peppol-ubl-3.0.19").stages[0].source)
    tree = etree.parse(str(sch_path), etree.XMLParser(resolve_entities=False, no_network=True))
    functions = tree.getroot().findall(f"{{{XSL}}}function")
    assert sorted(f.get("name").removeprefix("u:") for f in functions) == sorted(FUNCTIONS)
    copied = "\n".join(etree.tostring(f, encoding="unicode", with_tail=False) for f in functions)
    whens = []
    for name, arity in FUNCTIONS.items():
        if name == "slack":
            args = "xs:decimal(a[1]), xs:decimal(a[2]), xs:decimal(a[3])"
        elif name == "addPIVA":
            args = "string(a[1]), xs:integer(a[2])"
        else:
            args = ", ".join(f"string(a[{i}])" for i in range(1, arity + 1))
        whens.append(
            f'<xsl:when test="@fn = \'{name}\'"><xsl:sequence select="string(u:{name}({args}))"/></xsl:when>'
        )
    return f"""<xsl:stylesheet version="3.0" xmlns:xsl="{XSL}" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:u="utils" exclude-result-prefixes="#all">
  {copied}
  <xsl:template match="/">
    <results>
      <xsl:for-each select="/calls/call">
        <r>
          <xsl:try>
            <xsl:choose>{"".join(whens)}</xsl:choose>
            <xsl:catch><xsl:text>error</xsl:text></xsl:catch>
          </xsl:try>
        </r>
      </xsl:for-each>
    </results>
  </xsl:template>
</xsl:stylesheet>"""


def _xslt_results(inputs: list[tuple[str, ...]]) -> list[str]:
    root = etree.Element("calls")
    for name, *args in inputs:
        call = etree.SubElement(root, "call", fn=name)
        for a in args:
            etree.SubElement(call, "a").text = a
    doc = etree.tostring(root, encoding="unicode")
    with sch.SAXON_LOCK:
        proc = sch.saxon()
        exe = proc.new_xslt30_processor().compile_stylesheet(stylesheet_text=_stylesheet())
        node = proc.parse_xml(xml_text=doc)
        out = exe.transform_to_string(xdm_node=node)
    results = etree.fromstring(out.encode("utf-8"))
    return [r.text or "" for r in results]


def _java_results(java_tool: JavaTool, inputs: list[tuple[str, ...]]) -> list[str]:
    out = []
    for r in java_tool.eval_utils(inputs):
        assert "no such function" not in (r["error"] or ""), r
        if r["error"] is not None:
            out.append("error")
        elif isinstance(r["result"], bool):
            out.append("true" if r["result"] else "false")
        else:
            out.append(str(r["result"]))
    return out


def test_java_functions_equal_the_xslt_originals(java_tool: JavaTool) -> None:
    inputs = calls()
    expected = _xslt_results(inputs)
    actual = _java_results(java_tool, inputs)
    assert len(expected) == len(actual) == len(inputs)
    wrong = [
        f"u:{c[0]}({', '.join(repr(a) for a in c[1:])}): XSLT {e!r}, Java {a!r}"
        for c, e, a in zip(inputs, expected, actual, strict=True)
        if e != a
    ]
    assert not wrong, f"{len(wrong)} of {len(inputs)} calls differ:\n" + "\n".join(wrong[:30])
    outcomes: dict[str, Counter[str]] = {}
    for c, e in zip(inputs, expected, strict=True):
        outcomes.setdefault(c[0], Counter())[e] += 1
    for name in BOOLEAN_CHECKS:
        assert outcomes[name]["true"] and outcomes[name]["false"], (name, outcomes[name])
    assert set(outcomes) == set(FUNCTIONS)
