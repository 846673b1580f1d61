"""Hostile and broken input across the app (AppTest): each gets a clear message, no traceback, and the data the
learner loaded before stays loaded.

Corpus: CSV uploads (Data page), YAML configs (Config page), forward expressions (Graph page) and query parameters.
"""
from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

from explorer.data.sample import SAMPLE_PATH
from tests.app.apptest import APP
from tests.app.apptest import open_app_page as make_app

HEADER = b"timestamp,open,high,low,close,volume\n"
BEFORE_ROWS = 40  # the good upload every CSV case starts from


def candle_rows(n: int, start: int = 1_700_000_000, step: int = 60, price: float = 100.0) -> bytes:
    """n well-formed comma rows of unix-second candles."""
    out = []
    for i in range(n):
        p = price + i * 0.1
        out.append(b"%d,%r,%r,%r,%r,%r\n" % (start + step * i, p, p + 1, p - 1, p + 0.5, 10.0 + i))
    return b"".join(out)


def same_rows(n: int, fields: bytes) -> bytes:
    """n rows a minute apart whose price/volume fields are all `fields`."""
    return b"".join(b"%d,%s\n" % (1_700_000_000 + 60 * i, fields) for i in range(n))


GOOD = HEADER + candle_rows(20)

# id -> (payload, words the error must contain)
CSV_REFUSED = {
    "empty": (b"", "empty"),
    "whitespace_only": (b"  \n\n\t\n", "empty"),
    "binary_noise": (bytes(range(256)) * 40, "binary"),
    "png_image": ((SAMPLE_PATH.parents[1] / "tests/fixtures/candles/binary.png").read_bytes(), "binary"),
    "gzip_bytes": (b"\x1f\x8b\x08\x00" + bytes(200), "compressed"),
    "one_mb_single_line_of_numbers": (b"1," * 500_000, "No time column"),
    "one_mb_single_word": (b"a" * 1_000_000, "separator"),
    "utf16_with_bom": (GOOD.decode().encode("utf-16"), "UTF-16"),
    "utf16_without_bom": (GOOD.decode().encode("utf-16-le"), "binary"),
    "only_a_header": (HEADER, "no data rows"),
    "header_and_blank_lines": (HEADER + b"\n\n\n", "no data rows"),
    "nan_prices": (HEADER + same_rows(30, b"nan,nan,nan,nan,nan"), "No valid candles"),
    "empty_prices": (HEADER + same_rows(30, b",,,,"), "No valid candles"),
    "ten_thousand_columns_of_junk": (
        b",".join(b"c%d" % i for i in range(10_000)) + b"\n"
        + b"\n".join(b",".join(b"x%d" % ((i * j) % 97) for i in range(10_000)) for j in range(5)), "No time column"),
    "single_column": (b"price\n" + b"".join(b"%d\n" % i for i in range(50)), "separator"),
    "all_text": (b"a,b,c,d,e,f\n" + b"foo,bar,baz,qux,quux,corge\n" * 50, "No time column"),
    "null_bytes_between_fields": (HEADER + candle_rows(20).replace(b",", b",\x00"), "binary"),
    "unbalanced_quote": (HEADER + b'1700000000,"1,2,0.5,1.5,3\n' * 30, "No price columns"),
    "html_page": (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "web page"),
    "json_document": (b'[{"timestamp": 1700000000, "open": 1, "high": 2, "low": 0.5, "close": 1.5}]', "JSON"),
    "negative_unix_times": (HEADER + candle_rows(30, start=-10**12), "No valid candles"),
    "200k_one_number_lines": (b"1\n" * 200_000, "separator"),
    "one_timestamp_repeated": (HEADER + b"1700000000,1,2,0.5,1.5,3\n" * 50, "at least 10"),
    "three_candles": (HEADER + candle_rows(3), "at least 10"),
    "markup_in_column_names": (b"timestamp,<b>open</b>,high,low,close,*vol*\n" + candle_rows(20), "No price columns"),
}

# Accepted, correctly, with a note the learner sees: id -> (payload, words in an st.info note, rows loaded)
CSV_ACCEPTED_WITH_NOTE = {
    "latin1_odd_bytes": (b"timestamp,open,high,low,close,volume,note\n" + b"".join(
        r.rstrip(b"\n") + b",caf\xe9\xff\xfe\n" for r in candle_rows(20).splitlines(keepends=True)), "Latin-1", 20),
    "emoji_column_names": ("⏰,💰,📈,📉,🔒,📦\n".encode() + candle_rows(20), "No column names", 20),
}

# Implausible candles: each is refused, or loaded with a note naming the problem.
CSV_IMPLAUSIBLE = {
    "inf_prices": (HEADER + same_rows(30, b"inf,inf,-inf,inf,1"), ("infinite", "inf")),
    "overflowing_1e309_prices": (HEADER + same_rows(30, b"1e308,1e309,1e308,1e308,1e308"), ("infinite", "inf")),
    "negative_prices": (HEADER + same_rows(30, b"-100,-99,-101,-100.5,5"), ("negative",)),
    "timestamps_in_year_3871": (HEADER + candle_rows(30, start=6 * 10**13), ("3871", "future", "1973 to 2200")),
    "timestamps_in_year_9999": (HEADER + b"".join(
        b"9999-12-31 00:%02d:00,1,2,0.5,1.5,3\n" % i for i in range(30)), ("9999", "future")),
}


def open_link(params: dict[str, str]) -> AppTest:
    """A fresh session opened from a link with these query parameters (first page: the guided path)."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at


def data_page_with_upload() -> AppTest:
    """The Data page after a good 40-row upload: the 'data loaded before'."""
    at = make_app("pages/data.py")
    upload(at, "before.csv", HEADER + candle_rows(BEFORE_ROWS))
    assert not at.error and len(at.session_state["candles"].frame) == BEFORE_ROWS
    return at


def upload(at: AppTest, name: str, payload: bytes) -> None:
    at.file_uploader(key="data_upload").upload(name, payload, "text/csv").run()


def assert_before_still_loaded(at: AppTest) -> None:
    assert at.session_state["candles_source"] == "upload: before.csv"
    assert len(at.session_state["candles"].frame) == BEFORE_ROWS


def messages(elements) -> str:
    return "\n".join(e.value for e in elements)


@pytest.mark.parametrize("payload,words", CSV_REFUSED.values(), ids=CSV_REFUSED.keys())
def test_bad_csv_is_refused_and_previous_data_stays(payload, words):
    at = data_page_with_upload()
    upload(at, "hostile.csv", payload)
    assert not at.exception
    text = messages(at.error)
    assert words in text and "hostile.csv" in text and "still loaded" in text, text
    assert_before_still_loaded(at)
    at.run()  # the page keeps working on the next rerun
    assert not at.exception
    assert_before_still_loaded(at)


@pytest.mark.parametrize("payload,words,rows", CSV_ACCEPTED_WITH_NOTE.values(), ids=CSV_ACCEPTED_WITH_NOTE.keys())
def test_odd_but_readable_csv_loads_with_a_note(payload, words, rows):
    at = data_page_with_upload()
    upload(at, "odd.csv", payload)
    assert not at.exception and not at.error
    assert words in messages(at.info)
    assert len(at.session_state["candles"].frame) == rows
    at.switch_page("pages/graph.py").run()  # the lesson pages cope with what was loaded
    assert not at.exception


def test_fewest_candles_accepted_work_on_every_lesson_page():
    at = data_page_with_upload()
    upload(at, "ten.csv", HEADER + candle_rows(10))
    assert not at.error and len(at.session_state["candles"].frame) == 10
    for page in ("pages/graph.py", "pages/accumulation.py", "pages/retain_graph.py", "pages/home.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception[0].value)


def test_row_cap_cuts_a_long_upload_with_a_message(monkeypatch):
    monkeypatch.setenv("AUTOGRAD_EXPLORER_MAX_ROWS", "50")
    at = data_page_with_upload()
    upload(at, "long.csv", HEADER + candle_rows(120))
    assert not at.exception and not at.error
    assert len(at.session_state["candles"].frame) == 50
    assert "Row cap reached: only the first 50 rows" in messages(at.warning)
    upload(at, "short.csv", HEADER + candle_rows(30))  # under the cap: no message
    assert len(at.session_state["candles"].frame) == 30 and "Row cap" not in messages(at.warning)


def test_row_cap_applies_to_configs(monkeypatch):
    monkeypatch.setenv("AUTOGRAD_EXPLORER_MAX_ROWS", "500")
    at = make_app("pages/config.py")
    at.text_area(key="config_yaml").set_value(yaml_with("train_rows: 1000", "train_rows: 600"))
    at.button(key="config_apply").click().run()
    assert not at.exception and "row cap of 500" in messages(at.error)


@pytest.mark.parametrize("payload,words", CSV_IMPLAUSIBLE.values(), ids=CSV_IMPLAUSIBLE.keys())
def test_implausible_candles_are_refused_or_flagged(payload, words):
    at = data_page_with_upload()
    upload(at, "implausible.csv", payload)
    assert not at.exception
    said = (messages(at.error) + messages(at.warning) + messages(at.info)).lower()
    assert any(w.lower() in said for w in words), said


def test_upload_name_with_markup_is_shown_literally():
    at = data_page_with_upload()
    name = "<img src=x onerror=alert(1)>*bold*_x_.csv"
    upload(at, name, b"")
    escaped = r"\<img src=x onerror=alert\(1\)\>\*bold\*\_x\_.csv"  # markdown shows it as typed, never as markup
    assert escaped in at.error[0].value
    upload(at, name, GOOD)
    assert not at.exception and not at.error
    assert at.session_state["candles_source"] == f"upload: {name}"
    assert escaped in at.success[0].value and escaped in messages(at.subheader)


# --- YAML configs on the Config page -------------------------------------------------------------------------------
DEFAULT_YAML = (SAMPLE_PATH.parents[1] / "configs" / "configs.yaml").read_text()


def yaml_with(old: str, new: str) -> str:
    assert old in DEFAULT_YAML
    return DEFAULT_YAML.replace(old, new)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
CONFIGS = {
    "invalid_yaml_bracket": ("data: [", "not valid YAML"),
    "invalid_yaml_indent": ("data:\n  file_path: a\n bad: 1\n", "not valid YAML"),
    "tab_indentation": ("data:\n\tfile_path: data/x.csv\n", "not valid YAML"),
    "billion_laughs_alias_bomb": (BOMB, "alias"),
    "merge_key_alias": ("base: &b {file_path: data/BTCUSDT_synthetic_1m.csv}\ndata:\n  <<: *b\n", "alias"),
    "python_object_tag": ("!!python/object/apply:os.system ['id']", "not valid YAML"),
    "python_name_tag": ("data: !!python/name:os.system\n", "not valid YAML"),
    "a_list_not_a_mapping": ("- data\n- training\n", "mapping"),
    "just_a_number": ("42", "mapping"),
    "empty_document": ("", "mapping"),
    "unknown_key": (DEFAULT_YAML + "\nextra: 1\n", "unknown key `extra`"),
    "train_rows_is_text": (yaml_with("train_rows: 1000", "train_rows: many"), "train_rows"),
    "train_rows_negative": (yaml_with("train_rows: 1000", "train_rows: -5"), "train_rows"),
    "train_rows_beyond_the_row_cap": (yaml_with("train_rows: 1000", "train_rows: 2000001"), "train_rows"),
    "train_rows_too_few_candles": (yaml_with("train_rows: 1000", "train_rows: 3"), "at least 10"),
    "train_rows_is_a_float": (yaml_with("train_rows: 1000", "train_rows: 1.5"), "train_rows"),
    "separator_too_long": (yaml_with('separator: "|"', 'separator: "|||"'), "separator"),
    "learning_rate_is_a_list": (yaml_with("learning_rate: 0.01", "learning_rate: [1, 2]"), "learning_rate"),
    "path_with_dotdot": (yaml_with("data/BTCUSDT", "../data/BTCUSDT"), "inside data/"),
    "path_escaping_through_data": (yaml_with("data/BTCUSDT_synthetic_1m.csv", "data/../pyproject.toml"),
                                   "inside data/"),
    "absolute_path": (yaml_with("data/BTCUSDT_synthetic_1m.csv", "/etc/passwd"), "relative"),
    "path_is_the_data_folder": (yaml_with("data/BTCUSDT_synthetic_1m.csv", "data/"), "inside data/"),
    "path_does_not_exist": (yaml_with("data/BTCUSDT_synthetic_1m.csv", "data/nope.csv"), "no such file"),
    "path_with_null_byte": (yaml_with("data/BTCUSDT_synthetic_1m.csv", '"data/x\\0.csv"'), "file_path"),
    "path_too_long_for_the_file_system": (yaml_with("data/BTCUSDT_synthetic_1m.csv", "data/" + "a" * 5000),
                                          "file_path"),
    "huge_config": (DEFAULT_YAML + "#" + "x" * 70_000 + "\n", "larger than"),
    "deeply_nested_flow_list": ("[" * 3000 + "]" * 3000, "nested too deeply"),
}


@pytest.mark.parametrize("text,words", CONFIGS.values(), ids=CONFIGS.keys())
def test_bad_config_is_refused_and_previous_data_stays(text, words):
    at = make_app("pages/config.py")
    at.text_area(key="config_yaml").set_value(yaml_with("train_rows: 1000", "train_rows: 300"))
    at.button(key="config_apply").click().run()
    assert not at.error and len(at.session_state["candles"].frame) == 300
    at.text_area(key="config_yaml").set_value(text)
    at.button(key="config_apply").click().run()
    assert not at.exception
    assert words in messages(at.error), messages(at.error)
    assert "still loaded" in messages(at.error)
    assert len(at.session_state["candles"].frame) == 300
    assert at.session_state["candles_source"].startswith("config: data/BTCUSDT_synthetic_1m.csv (first 300")


# --- forward expressions on the Graph page -------------------------------------------------------------------------
EXPRESSIONS = {
    "empty": ("", "empty"),
    "dunder_import": ("__import__('os').system('id')", "not allowed"),
    "dunder_attribute": ("x.__class__", "'_'"),
    "class_hierarchy_walk": ("().__class__.__bases__[0]", "not allowed"),
    "lambda": ("lambda: 1", "lambda"),
    "open_a_file": ("open('/etc/passwd')", "'open' is not allowed"),
    "torch_os_system": ("torch.os.system('id')", "'system' is not allowed"),
    "getattr": ("getattr(x, 'T')", "'getattr' is not allowed"),
    "statement_after_semicolon": ("x @ w.T + b; import os", "syntax error"),
    "second_line_import": ("x @ w.T + b\nimport os", "syntax error"),
    "null_byte": ("x\x00", "null bytes"),
    "power_tower": ("x ** 10**9", "exponent"),
    "huge_exponent": ("pow(x @ w.T + b, 99)", "too large"),
    "exponent_is_a_tensor": ("x ** w", "exponent"),
    "overflowing_literal": ("1e400 * x", "too large"),
    "string_constant": ("'abc'", "only numbers"),
    "plain_number": ("1 + 1", "plain number"),
    "shape_mismatch": ("x @ x", "PyTorch refused"),
    "not_a_scalar": ("w @ w.T @ w", "single number"),
    "dim_out_of_range": ("softmax(x @ w.T + b, dim=9)", "PyTorch refused"),
    "indexing": ("x[0]", "indexing"),
    "comparison": ("x < w", "comparisons"),
    "walrus": ("(y := x)", ":="),
    "modulo": ("x % 2", "Mod"),
    "nested_too_deep": ("-" * 299 + "x", "too large"),
    "over_max_chars": ("x" + "+x" * 150, "too long (301 characters, at most 300)"),  # named, never cut or dropped
    "no_parameters_used": ("exp(exp(x)).sum()", "grad_fn"),
    "python_division_by_zero": ("x @ w.T + b + 1/0", "division by zero"),
    "python_float_overflow": ("x @ w.T + b + (1e6 ** 10) ** 10", "PyTorch refused"),
}


@pytest.mark.parametrize("text,words", EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_bad_expression_is_refused_and_last_good_one_stays(text, words):
    at = data_page_with_upload()
    at.switch_page("pages/graph.py").run()
    at.text_input(key="graph_expr").set_value("sigmoid(x @ w.T + b)").run()
    assert not at.exception and not at.error
    at.text_input(key="graph_expr").set_value(text).run()
    assert not at.exception
    err = messages(at.error).replace("\\", "")  # the page escapes markdown in the parser's message
    assert "Expression not accepted" in err and words in err, err
    assert "Still showing `sigmoid(x @ w.T + b)`" in err
    assert_before_still_loaded(at)


# --- query parameters ----------------------------------------------------------------------------------------------
QUERY = {
    "data_rows_above_the_cap": ({"data": "sample:999999999"}, "cannot be reproduced"),
    "data_rows_below_the_minimum": ({"data": "sample:5"}, "cannot be reproduced"),
    "data_rows_negative": ({"data": "sample:-100"}, "cannot be reproduced"),
    "data_rows_not_a_number": ({"data": "sample:10abc"}, "cannot be reproduced"),
    "data_rows_superscript_digits": ({"data": "sample:²²"}, "cannot be reproduced"),
    "data_path_traversal": ({"data": "../../etc/passwd"}, "cannot be reproduced"),
    "data_script_tag": ({"data": "<script>alert(1)</script>"}, "cannot be reproduced"),
    "data_very_long": ({"data": "A" * 10_000}, "cannot be reproduced"),
    "data_upload": ({"data": "upload"}, "cannot travel in a URL"),
}


@pytest.mark.parametrize("params,words", QUERY.values(), ids=QUERY.keys())
def test_bad_query_param_gives_a_warning_and_the_sample(params, words):
    at = open_link(params)
    assert not at.exception
    assert words in messages(at.warning)
    assert len(at.session_state["candles"].frame) == 1000  # the bundled sample, as configured
    for page in ("pages/data.py", "pages/graph.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert len(at.session_state["candles"].frame) == 1000


@pytest.mark.parametrize("value", ["2", "yes", "<b>1</b>", "1" * 5000])
def test_odd_presenter_param_leaves_presenter_mode_off(value):
    at = open_link({"present": value})
    assert not at.exception
    assert at.toggle(key="present").value is False and "present" not in at.query_params


GRAPH_LINKS = {
    "row_past_the_data": ({"graph_row": "99999999"}, "`graph_row`"),
    "row_negative": ({"graph_row": "-1"}, "`graph_row`"),
    "row_infinite": ({"graph_row": "inf"}, "`graph_row`"),
    "seed_not_a_number": ({"graph_seed": "abc"}, "`graph_seed`"),
    "seed_5000_digits": ({"graph_seed": "9" * 5000}, "`graph_seed`"),
    "seed_a_float": ({"graph_seed": "1.5"}, "`graph_seed`"),
    "layers_far_above_the_slider": ({"graph_mlp_layers": "100000"}, "`graph_mlp_layers`"),
    "width_not_a_choice": ({"graph_mlp_hidden": "7"}, "`graph_mlp_hidden`"),
    "node_cap_not_on_a_step": ({"graph_mlp_cap": "25"}, "`graph_mlp_cap`"),
    "node_cap_above_the_limit": ({"graph_mlp_cap": "100000"}, "`graph_mlp_cap`"),
    "step_position_huge": ({"graph_fwd_pos": str(10**12)}, "`graph_fwd_pos`"),
    "step_position_past_the_end": ({"graph_bwd_pos": "900"}, "past the last"),
    "toggle_not_0_or_1": ({"graph_classic": "yes"}, "`graph_classic`"),
    "expression_longer_than_the_widget": ({"graph_expr": "x" * 5000}, "`graph_expr`"),
    "markup_in_a_value": ({"graph_seed": "*bold*<img src=x>"}, r"\*bold\*\<img src=x\>"),
}


@pytest.mark.parametrize("params,words", GRAPH_LINKS.values(), ids=GRAPH_LINKS.keys())
def test_bad_graph_link_parameter_is_ignored_with_a_warning(params, words):
    at = open_link(params)
    at.switch_page("pages/graph.py").run()
    assert not at.exception
    assert words in messages(at.warning), messages(at.warning)
    assert len(at.session_state["candles"].frame) == 1000
    at.run()  # and the page keeps working
    assert not at.exception


def test_hostile_expression_in_a_link_is_refused_on_the_page():
    at = open_link({"graph_expr": "__import__('os').system('id')"})
    at.switch_page("pages/graph.py").run()
    assert not at.exception
    assert "Expression not accepted" in messages(at.error)


@pytest.mark.parametrize("value", ["cuda", "mps", "tpu", "<b>x</b>*y*"])
def test_device_link_for_a_missing_device_falls_back_to_cpu(value, cpu_only):
    at = open_link({"device": value})
    assert not at.exception
    assert "does not have" in messages(at.warning)
    assert at.session_state["device"] == "cpu"


# --- scratchpad programs -------------------------------------------------------------------------------------------
SCRATCH_GOOD = "a = torch.ones(2, requires_grad=True)\nb = (a * 3).sum()\nb.backward()\n"
SCRATCH_AS_TYPED = {  # refused before anything runs
    "dunder_import": ("__import__('os').system('id')", "names starting with '_'"),
    "dunder_attribute": ("x = torch.ones(1)\nx.__class__.__bases__", "attributes starting with '_'"),
    "import": ("import os\nos.system('id')", "import"),
    "getattr": ("getattr(torch, 'load')('x')", "getattr is not allowed"),
    "eval": ("eval(\"__import__('os')\")", "eval is not allowed"),
    "lambda_hook": ("x = torch.ones(1, requires_grad=True)\nx.register_hook(lambda g: g)", "not allowed"),
    "def": ("def f(x):\n    return x", "def (functions)"),
    "while_true": ("while True:\n    pass", "while loops"),
    "long_loop": ("for i in range(100000000):\n    pass", "at most 100"),
    "torch_load": ("torch.load('/etc/passwd')", "torch.load is not allowed"),
    "too_many_statements": ("x = 1\n" * 41, "41 statements"),
    "f_string": ("print(f'{1:999999999}')", "f-strings"),
}
SCRATCH_AT_RUN = {  # refused at the statement that would go over a limit
    "power_tower": ("n = 10**10**10", "too large"),
    "oversized_tensor": ("x = torch.randn(1000, 1000)", "1,000,000 elements"),
    "outer_product_bomb": ("a = torch.ones(100000, 1)\nb = a * a.T", "elements"),
    "nested_loops": ("for i in range(100):\n    for j in range(100):\n        pass", "1,000 times"),
    "list_bomb": ("x = torch.tensor([[0.0] * 100000] * 100000)", "too large"),
}


def scratchpad_after_a_good_run() -> AppTest:
    at = make_app("pages/scratchpad.py")
    at.text_area(key="scratch_code").set_value(SCRATCH_GOOD).run()
    at.button(key="scratch_run_all").click().run()
    assert not at.exception and not at.error and at.dataframe[0].value.loc[0, "grad"] == "[3. 3.]"
    return at


def assert_scratch_refused(at: AppTest, words: str) -> None:
    assert not at.exception
    said = messages(at.error).replace("\\", "")  # the page escapes markdown in the message
    assert said.startswith("Program not run") and words in said and "Still showing the last good run" in said, said


@pytest.mark.parametrize("text,words", SCRATCH_AS_TYPED.values(), ids=SCRATCH_AS_TYPED.keys())
def test_hostile_scratchpad_program_is_refused_as_typed_and_the_last_run_stays(text, words):
    at = scratchpad_after_a_good_run()
    before = at.dataframe[0].value
    at.text_area(key="scratch_code").set_value(text).run()
    assert_scratch_refused(at, words)
    assert at.dataframe[0].value.equals(before)
    at.run()  # and the page keeps working
    assert not at.exception


@pytest.mark.parametrize("text,words", SCRATCH_AT_RUN.values(), ids=SCRATCH_AT_RUN.keys())
def test_hostile_scratchpad_statement_is_refused_and_the_last_good_step_stays(text, words):
    at = scratchpad_after_a_good_run()
    at.text_area(key="scratch_code").set_value("y = torch.ones(2)\n" + text).run()
    at.button(key="scratch_step").click().run()
    before = at.dataframe[0].value
    assert list(before["name"]) == ["y"]
    at.button(key="scratch_run_all").click().run()
    assert_scratch_refused(at, words)
    assert at.dataframe[0].value.equals(before)


SCRATCH_LINKS = {
    "code_longer_than_the_limit": ({"code": "x = 1\n" * 700}, "`code`"),
    "position_negative": ({"scratch_pos": "-1"}, "`scratch_pos`"),
    "position_not_a_number": ({"scratch_pos": "all"}, "`scratch_pos`"),
}


@pytest.mark.parametrize("params,words", SCRATCH_LINKS.values(), ids=SCRATCH_LINKS.keys())
def test_bad_scratchpad_link_parameter_is_ignored_with_a_warning(params, words):
    at = open_link(params)
    at.switch_page("pages/scratchpad.py").run()
    assert not at.exception
    assert words in messages(at.warning), messages(at.warning)


def test_hostile_program_in_a_scratchpad_link_is_refused_on_the_page():
    at = open_link({"code": "().__class__.__base__.__subclasses__()", "scratch_pos": "1"})
    at.switch_page("pages/scratchpad.py").run()
    assert not at.exception
    assert "Program not run" in messages(at.error) and "attributes starting with" in messages(at.error)
    assert not at.dataframe  # no run was good yet: nothing to show
