"""Dataset core: validation, analysis, conversion and cleaning of training files.

Plain functions over paths and binary streams, no Django: the Files API and Celery tasks call
them, and they run and test on their own. See docs/datasets.md.
"""

from workers.ml.data.convert import ColumnMapping, ConversionResult, Preview, convert_to_chat_jsonl, preview
from workers.ml.data.issues import ISSUE_CODES, Issue
from workers.ml.data.pii import RedactionResult, find_pii, redact_pii
from workers.ml.data.tabular import SOURCE_FORMATS, Limits, SourceFormat
from workers.ml.data.transform import SplitResult, TransformResult, deduplicate, shuffle, split
from workers.ml.data.validate import DatasetReport, validate_and_analyse

__all__ = [
    "ISSUE_CODES",
    "SOURCE_FORMATS",
    "ColumnMapping",
    "ConversionResult",
    "DatasetReport",
    "Issue",
    "Limits",
    "Preview",
    "RedactionResult",
    "SourceFormat",
    "SplitResult",
    "TransformResult",
    "convert_to_chat_jsonl",
    "deduplicate",
    "find_pii",
    "preview",
    "redact_pii",
    "shuffle",
    "split",
    "validate_and_analyse",
]
