"""Airbyte's standard source tests (spec, check, discover, basic read, bad catalog) against the emulator."""

import pytest
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from source_iconik import SourceIconik


@pytest.mark.usefixtures("acceptance_emulator")
class TestSourceIconikStandardSuite(SourceTestSuiteBase):
    # The checkout folder's name is not the connector's, so name the class instead of deriving it.
    connector = SourceIconik
