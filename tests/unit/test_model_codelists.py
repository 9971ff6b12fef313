"""Code lists are read from the rule files of each rule set."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.peppol import codelists
from harness.peppol.scenarios import RULESET_BIS, RULESET_PINT_SG


def test_bis_lists_come_from_the_cen_and_peppol_rules():
    currency = codelists.code_list(RULESET_BIS, "currency")
    assert {"EUR", "SEK", "USD"} <= currency.values
    assert any("CEN-EN16931-UBL.sch#BR-CL-04" in s for s in currency.sources)
    assert any("PEPPOL-EN16931-UBL.sch#let:ISO4217" in s for s in currency.sources)
    assert codelists.code_list(RULESET_BIS, "vat_category").values == {"S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B"}
    assert "C62" in codelists.code_list(RULESET_BIS, "unit")
    assert "0088" in codelists.code_list(RULESET_BIS, "eas")
    assert "VATEX-EU-IC" in codelists.code_list(RULESET_BIS, "vatex")
    assert codelists.code_list(RULESET_BIS, "credit_note_type").values == {"381", "396", "81", "83", "532"}
    assert "380" in codelists.code_list(RULESET_BIS, "invoice_type")


def test_pint_sg_lists_are_the_singapore_ones():
    categories = codelists.code_list(RULESET_PINT_SG, "vat_category").values
    assert {"SR", "ZR", "ES33", "NG"} <= categories
    assert "S" not in categories
    assert "SGD" in codelists.code_list(RULESET_PINT_SG, "currency")
    assert "0195" in codelists.code_list(RULESET_PINT_SG, "eas")


def test_schemes_and_countries_singled_out_by_rules():
    schemes = codelists.schemes_with_format_rules(RULESET_BIS)
    assert {"0088", "0192", "0208"} <= schemes  # GLN, Norwegian and Belgian organisation numbers
    assert "0195" not in codelists.schemes_with_format_rules(RULESET_PINT_SG)
    assert {"NO", "SE", "DK", "IT", "NL"} <= codelists.countries_with_national_rules(RULESET_BIS)


def test_unknown_rule_set_or_list_is_a_config_error():
    with pytest.raises(ConfigError, match="peppol-ubl-3.0.19"):
        codelists.code_list("cen-cii-1.3.16", "currency")
    with pytest.raises(ConfigError, match="currency"):
        codelists.code_list(RULESET_BIS, "colours")
