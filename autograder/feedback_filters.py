"""An nbconvert preprocessor for feedback: test-cell errors show their message, not their code.

nbgrader's ClearHiddenTests removes the hidden region from a test cell's source, but the traceback
of a failing hidden assertion still quotes the hidden lines. For test cells the traceback is
replaced by the exception's name and message, which is what the test's author wrote for students.
"""
from nbconvert.preprocessors import Preprocessor

from .notebooks import is_test


class HideTestTracebacks(Preprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
