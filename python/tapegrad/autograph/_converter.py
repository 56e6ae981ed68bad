"""The source-to-source half of AutoGraph: parse a function, lower ``break`` / ``continue`` /
``return``, rewrite control flow into ``ag__`` calls, compile with the original closure."""

from __future__ import annotations
import __future__

import ast
import copy
import inspect
import itertools
import linecache
import textwrap
import threading
import types
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from . import _operators


class ConversionError(Exception):
    """Raised by ``tf.autograph.to_graph`` / ``to_code`` when an entity cannot be converted."""


class _Unsupported(Exception):
    pass


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOPS = (ast.For, ast.While)
# Calls that depend on the calling frame: never wrapped, and a statement using them stays Python.
_FRAME_CALLS = frozenset({"super", "locals", "globals", "vars", "eval", "exec", "dir"})
_NO_WRAP = _FRAME_CALLS | {"print"}
_GEN_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
_AG = "ag__"


# ---- small AST helpers ---------------------------------------------------------------------------


def _name(id_: str, store: bool = False, raw: bool = False) -> ast.Name:
    n = ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())
    if raw:
        n._ag_raw = True  # type: ignore[attr-defined]
    return n


def _ag(attr: str) -> ast.Attribute:
    return ast.Attribute(value=_name(_AG), attr=attr, ctx=ast.Load())


def _call(func: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(func=func, args=list(args), keywords=[])


def _assign(id_: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_name(id_, store=True)], value=value, lineno=0)


def _const(v: Any) -> ast.Constant:
    return ast.Constant(value=v)


def _not(e: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=e)


def _tuple(elts: list[ast.expr]) -> ast.Tuple:
    return ast.Tuple(elts=elts, ctx=ast.Load())


def _def(name: str, params: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments(
        posonlyargs=[], args=[ast.arg(arg=p) for p in params], kwonlyargs=[], kw_defaults=[], defaults=[]
    )
    return ast.FunctionDef(name=name, args=args, body=body or [ast.Pass()], decorator_list=[], returns=None)


def _lambda(e: ast.expr) -> ast.Lambda:
    args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    return ast.Lambda(args=args, body=e)


def _own_nodes(nodes: Iterable[ast.AST], comprehensions: bool = True) -> Iterator[ast.AST]:
    """All nodes of `nodes` in their own scope: nested functions, lambdas and classes are
    yielded but not entered (their defaults and decorators are)."""
    stack = list(nodes)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(n.args.defaults)
            stack.extend(d for d in n.args.kw_defaults if d is not None)
            if not isinstance(n, ast.Lambda):
                stack.extend(n.decorator_list)
            continue
        if isinstance(n, ast.ClassDef):
            stack.extend(n.decorator_list + n.bases + [k.value for k in n.keywords])
            continue
        if isinstance(n, _COMPS) and not comprehensions:
            stack.append(n.generators[0].iter)
            continue
        stack.extend(ast.iter_child_nodes(n))
        extra = getattr(n, "_ag_extra_test", None)  # a lowered loop's condition, read each iteration
        if extra is not None:
            stack.append(extra)


def _target_names(t: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}


def assigned_names(stmts: Iterable[ast.AST], handlers: bool = True) -> set[str]:
    """Names that `stmts` bind in their own scope (with `handlers`, ``except ... as name`` too)."""
    out: set[str] = set()
    for n in _own_nodes(stmts, comprehensions=False):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name.split(".")[0]) for a in n.names if a.name != "*")
        elif isinstance(n, ast.ExceptHandler) and n.name and handlers:
            out.add(n.name)
    return out


def _loads(nodes: Iterable[ast.AST]) -> Counter:
    """How often each name is read under `nodes` (nested scopes included: closures read too)."""
    c: Counter = Counter()
    stack = list(nodes)
    while stack:
        n = stack.pop()
        stack.extend(ast.iter_child_nodes(n))
        extra = getattr(n, "_ag_extra_test", None)
        if extra is not None:
            stack.append(extra)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            c[n.id] += 1
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            c[n.target.id] += 1
    return c


def _unsupported_reason(stmt: ast.stmt) -> str | None:
    """Why `stmt` cannot become a functional statement (it then stays Python), or None."""
    for n in _own_nodes([stmt]):
        if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom, ast.Await)):
            return type(n).__name__.lower()
        if isinstance(n, (ast.Global, ast.Nonlocal, ast.NamedExpr, ast.Delete, ast.AsyncFor, ast.AsyncWith)):
            return type(n).__name__
        if type(n).__name__ == "Match":
            return "match"
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _FRAME_CALLS:
            return f"{n.func.id}()"
        if isinstance(n, (ast.For, ast.While)) and n.orelse:
            return "loop else"
    if _escaping_jumps(stmt.body if isinstance(stmt, _LOOPS) else [stmt], in_loop=False):
        return "break/continue"
    return None


def _escaping_jumps(stmts: list[ast.stmt], in_loop: bool) -> bool:
    """Whether a break/continue in `stmts` leaves them (is not inside a loop within them)."""
    for s in stmts:
        if isinstance(s, (ast.Break, ast.Continue)) and not in_loop:
            return True
        if isinstance(s, _SCOPES):
            continue
        if isinstance(s, _LOOPS):
            if _escaping_jumps(s.orelse, in_loop):
                return True
            continue  # the loop's own body binds its jumps
        for field in ("body", "orelse", "finalbody"):
            if _escaping_jumps(getattr(s, field, []) or [], in_loop):
                return True
        for h in getattr(s, "handlers", []) or []:
            if _escaping_jumps(h.body, in_loop):
                return True
    return False


# ---- lowering of break / continue / return ------------------------------------------------------


class _Names:
    """Fresh identifiers that do not clash with any name of the function."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def fresh(self, base: str) -> str:
        for k in itertools.count():
            name = base if k == 0 else f"{base}_{k}"
            if name not in self.taken:
                self.taken.add(name)
                return name
        raise AssertionError  # pragma: no cover


def _sets(stmt: ast.AST, flag: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == flag and isinstance(n.ctx, ast.Store) for n in _own_nodes([stmt]))


def _always_sets(stmts: list[ast.stmt], flag: str) -> bool:
    for s in stmts:
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == flag for t in s.targets):
            return True
        if isinstance(s, ast.If) and _always_sets(s.body, flag) and _always_sets(s.orelse, flag):
            return True
        if isinstance(s, ast.With) and _always_sets(s.body, flag):
            return True
    return False


def _guard_block(stmts: list[ast.stmt], flag: str, move_into_else: bool, loops: bool) -> list[ast.stmt]:
    """Statements after one that may set `flag` run under ``if not flag:`` (TF's lowering);
    with `move_into_else`, the rest of a block after an ``if`` whose one branch always sets the
    flag moves into the other branch, so that both branches of a tensor ``if`` return."""
    out: list[ast.stmt] = []
    for i, s in enumerate(stmts):
        rest = stmts[i + 1 :]
        if move_into_else and rest and isinstance(s, ast.If):
            body_always, else_always = _always_sets(s.body, flag), _always_sets(s.orelse, flag)
            if body_always != else_always:
                if body_always:
                    s.body, s.orelse = s.body, s.orelse + rest
                else:
                    s.body, s.orelse = s.body + rest, s.orelse
                s.body = _guard_block(s.body, flag, move_into_else, loops)
                s.orelse = _guard_block(s.orelse, flag, move_into_else, loops)
                out.append(s)
                return out
        _guard_inner(s, flag, move_into_else, loops)
        out.append(s)
        if rest and _sets(s, flag):
            out.append(ast.If(test=_not(_name(flag)), body=_guard_block(rest, flag, move_into_else, loops), orelse=[]))
            return out
    return out


def _guard_inner(s: ast.stmt, flag: str, move_into_else: bool, loops: bool) -> None:
    if isinstance(s, ast.If):
        s.body = _guard_block(s.body, flag, move_into_else, loops)
        s.orelse = _guard_block(s.orelse, flag, move_into_else, loops)
    elif isinstance(s, ast.With):
        s.body = _guard_block(s.body, flag, move_into_else, loops)
    elif loops and isinstance(s, _LOOPS) and _sets(s, flag):
        s.body = _guard_block(s.body, flag, move_into_else, loops)
        _add_extra_test(s, _not(_name(flag)))


def _add_extra_test(loop: ast.stmt, test: ast.expr) -> None:
    if isinstance(loop, ast.While):
        loop.test = ast.BoolOp(op=ast.And(), values=[test, loop.test])
    else:
        prev = getattr(loop, "_ag_extra_test", None)
        loop._ag_extra_test = test if prev is None else ast.BoolOp(op=ast.And(), values=[prev, test])  # type: ignore[attr-defined]


def _jumps(stmts: list[ast.stmt], in_try: bool, out: list[tuple[ast.stmt, bool, list[ast.stmt], int]]) -> None:
    """The break/continue statements of the loop whose body is `stmts`, with whether each sits
    in a ``try`` and where (its block and index)."""
    for i, s in enumerate(stmts):
        if isinstance(s, (ast.Break, ast.Continue)):
            out.append((s, in_try, stmts, i))
        elif isinstance(s, (ast.If, ast.With)):
            _jumps(s.body, in_try, out)
            _jumps(getattr(s, "orelse", []), in_try, out)
        elif isinstance(s, ast.Try):
            for block in [s.body, s.orelse, s.finalbody] + [h.body for h in s.handlers]:
                _jumps(block, True, out)
        elif isinstance(s, _LOOPS):
            _jumps(s.orelse, in_try, out)


def _lower_loops(stmts: list[ast.stmt], names: _Names) -> list[ast.stmt]:
    """Lowers break/continue of every loop (innermost first) to boolean flags; a loop's ``else``
    moves after it (under ``if not break_:``). A jump inside ``try`` leaves its loop as it is."""
    out: list[ast.stmt] = []
    for s in stmts:
        if isinstance(s, _SCOPES):
            out.append(s)
            continue
        for field in ("body", "orelse", "finalbody"):
            if getattr(s, field, None):
                setattr(s, field, _lower_loops(getattr(s, field), names))
        for h in getattr(s, "handlers", []) or []:
            h.body = _lower_loops(h.body, names)
        if not isinstance(s, _LOOPS):
            out.append(s)
            continue
        found: list[tuple[ast.stmt, bool, list[ast.stmt], int]] = []
        _jumps(s.body, False, found)
        if any(in_try for _, in_try, _, _ in found):
            out.append(s)
            continue
        pre: list[ast.stmt] = []
        post: list[ast.stmt] = []
        kinds = {type(j) for j, _, _, _ in found}
        flags: dict[type, str] = {}
        for kind, base in ((ast.Continue, "continue_"), (ast.Break, "break_")):
            if kind in kinds:
                flags[kind] = names.fresh(base)
        for j, _, block, i in found:
            block[i] = _assign(flags[type(j)], _const(True))
        if ast.Continue in flags:
            flag = flags[ast.Continue]
            s.body = [_assign(flag, _const(False))] + _guard_block(s.body, flag, False, False)
        if ast.Break in flags:
            flag = flags[ast.Break]
            pre.append(_assign(flag, _const(False)))
            s.body = _guard_block(s.body, flag, False, False)
            _add_extra_test(s, _not(_name(flag)))
            if s.orelse:
                post.append(ast.If(test=_not(_name(flag)), body=s.orelse, orelse=[]))
        elif s.orelse:
            post.extend(s.orelse)
        s.orelse = []
        out.extend(pre + [s] + post)
    return out


def _lower_returns(fn: ast.FunctionDef, names: _Names) -> tuple[str, str] | None:
    """Lowers the returns of `fn` into ``do_return`` / ``retval_`` variables when one sits in a
    compound statement (TF's ``return_statements`` converter). Returns the two names, or None
    when nothing was lowered (no nested return, or one inside ``try``)."""
    nested = False
    blocks: list[tuple[list[ast.stmt], bool]] = [(fn.body, False)]
    found: list[tuple[list[ast.stmt], int]] = []
    while blocks:
        block, deep = blocks.pop()
        for i, s in enumerate(block):
            if isinstance(s, ast.Return):
                nested = nested or deep
                found.append((block, i))
            elif isinstance(s, ast.Try):
                if any(isinstance(n, ast.Return) for n in _own_nodes([s])):
                    return None
            elif not isinstance(s, _SCOPES):
                for field in ("body", "orelse"):
                    if getattr(s, field, None):
                        blocks.append((getattr(s, field), True))
    if not nested:
        return None
    do_return, retval_ = names.fresh("do_return"), names.fresh("retval_")
    for block, i in found:
        value = block[i].value  # type: ignore[attr-defined]
        block[i] = ast.If(  # a placeholder holding two statements, flattened below
            test=_const(True),
            body=[_assign(retval_, value or _const(None)), _assign(do_return, _const(True))],
            orelse=[],
        )
        block[i]._ag_inline = True  # type: ignore[attr-defined]
    _flatten_inline(fn.body)
    body = _guard_block(fn.body, do_return, True, True)
    fn.body = (
        [_assign(do_return, _const(False)), _assign(retval_, _call(_ag("UndefinedReturnValue")))]
        + body
        + [ast.Return(value=_call(_ag("retval"), _name(retval_)))]
    )
    return do_return, retval_


def _flatten_inline(stmts: list[ast.stmt]) -> None:
    i = 0
    while i < len(stmts):
        s = stmts[i]
        if getattr(s, "_ag_inline", False):
            stmts[i : i + 1] = s.body  # type: ignore[attr-defined]
            i += len(s.body)  # type: ignore[attr-defined]
            continue
        if not isinstance(s, _SCOPES):
            for field in ("body", "orelse", "finalbody"):
                if getattr(s, field, None):
                    _flatten_inline(getattr(s, field))
            for h in getattr(s, "handlers", []) or []:
                _flatten_inline(h.body)
        i += 1


# ---- liveness ------------------------------------------------------------------------------------


def _uses(node: ast.AST | None) -> set[str]:
    return set(_loads([node])) if node is not None else set()


class _Liveness:
    """Backward liveness over the lowered function (its jumps are flags by now): the names live
    after each statement and at the head of each loop, as TF's ``liveness`` analysis. Names read by
    nested functions or lambdas count as live everywhere (they may run at any later time); a
    statement with jumps or handlers (``try``, an unlowered loop) keeps everything it reads live."""

    def __init__(self, fn: ast.FunctionDef) -> None:
        self.after: dict[int, set[str]] = {}
        self.head: dict[int, set[str]] = {}
        self.escaping: set[str] = set()
        for n in _own_nodes(fn.body):  # global / nonlocal names are seen outside: always live
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                self.escaping.update(n.names)
        for n in _own_nodes(fn.body):
            if isinstance(n, ast.Lambda):
                self.escaping |= _uses(n.body)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.escaping |= set(_loads(n.body))
        self.block(fn.body, set())

    def block(self, stmts: list[ast.stmt], live: set[str]) -> set[str]:
        for s in reversed(stmts):
            live = self.stmt(s, live)
        return live

    def stmt(self, s: ast.stmt, live: set[str]) -> set[str]:
        live = set(live) | self.escaping
        self.after[id(s)] = live
        if isinstance(s, ast.If):
            return _uses(s.test) | self.block(s.body, live) | self.block(s.orelse, live)
        if isinstance(s, (ast.While, ast.For)):
            if s.orelse or _escaping_jumps(s.body, in_loop=False):  # not lowered: conservative
                everything = live | _uses(s)
                self.block(s.body, everything)
                self.block(s.orelse, everything)
                self.head[id(s)] = everything
                return everything
            if isinstance(s, ast.While):
                test, targets, before = _uses(s.test), set(), set()
            else:
                test, targets, before = (
                    _uses(getattr(s, "_ag_extra_test", None)),
                    _target_names(s.target),
                    _uses(s.iter),
                )
            head = live | test
            while True:
                new = live | test | (self.block(s.body, head) - targets)
                if new == head:
                    break
                head = new
            self.head[id(s)] = head
            return head | before
        if isinstance(s, (ast.With, ast.AsyncWith)):
            bound = assigned_names([it.optional_vars for it in s.items if it.optional_vars])
            return (self.block(s.body, live) - bound) | set().union(*(_uses(it.context_expr) for it in s.items))
        if isinstance(s, (ast.Return, ast.Raise)):
            return _uses(s) | self.escaping
        if isinstance(s, (ast.Try, ast.AsyncFor)) or type(s).__name__ in ("Match", "TryStar"):
            everything = live | _uses(s)
            for field in ("body", "orelse", "finalbody"):
                self.block(getattr(s, field, []) or [], everything)
            for h in getattr(s, "handlers", []) or []:
                self.block(h.body, everything)
            return everything
        if isinstance(s, (ast.Break, ast.Continue)):
            return live
        kills: set[str] = set()
        if isinstance(s, (ast.Assign, ast.AnnAssign)):
            lhs: list[ast.expr] = list(s.targets) if isinstance(s, ast.Assign) else [s.target]
            kills = {n.id for t in lhs for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        elif isinstance(s, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kills = assigned_names([s])
        return (live - kills) | _uses(s)


# ---- expressions ---------------------------------------------------------------------------------


_WRAP_CALLS = [True]  # set while one function is transformed (single-threaded: under _LOCK)


class _Expressions(ast.NodeTransformer):
    """Calls -> ``ag__.converted_call``; ``and``/``or``/``not`` -> lazy ``ag__.and_``/``or_``/
    ``not_``; ``a if c else b`` -> ``ag__.if_exp``. Lambdas and nested functions are left alone."""

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not _WRAP_CALLS[0]:  # to_graph(recursive=False): calls run as written
            return node
        f = node.func
        if isinstance(f, ast.Name) and f.id in _NO_WRAP:
            return node
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == _AG:
            return node
        kwargs: ast.expr
        if node.keywords:
            kwargs = ast.Dict(
                keys=[_const(k.arg) if k.arg is not None else None for k in node.keywords],
                values=[k.value for k in node.keywords],
            )
        else:
            kwargs = _const(None)
        return ast.Call(func=_ag("converted_call"), args=[f, _tuple(list(node.args)), kwargs], keywords=[])

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        op = "and_" if isinstance(node.op, ast.And) else "or_"
        result = node.values[-1]
        for v in reversed(node.values[:-1]):
            result = _call(_ag(op), _lambda(v), _lambda(result))
        return result

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _call(_ag("not_"), node.operand)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        return _call(_ag("if_exp"), node.test, _lambda(node.body), _lambda(node.orelse), _const(ast.unparse(node.test)))


def _expr(e: ast.expr) -> ast.expr:
    return _Expressions().visit(e)


# ---- control flow --------------------------------------------------------------------------------


class _ControlFlow:
    """Rewrites the function's own ``if``/``while``/``for`` statements into ``ag__.if_stmt`` /
    ``while_stmt`` / ``for_stmt`` calls over nested functions that share the state by
    ``nonlocal`` (TF's ``control_flow`` converter)."""

    def __init__(self, fn: ast.FunctionDef, names: _Names, global_names: set[str], all_live: bool) -> None:
        self.names = names
        self.global_names = global_names
        self.all_live = all_live
        self.liveness = _Liveness(fn)
        self.maybe_undefined: set[str] = set()
        self.converted = 0
        # ``except E as e`` unbinds `e` after the handler: a name bound only so is no state, and one
        # also bound otherwise is read into the state with ``ag__.ldu`` (Undefined when unbound)
        handler_names = assigned_names(fn.body) - assigned_names(fn.body, handlers=False)
        self.handler_only = handler_names
        self.unbindable = {
            n.name
            for n in _own_nodes(fn.body)
            if isinstance(n, ast.ExceptHandler) and n.name and n.name not in handler_names
        }

    def block(self, stmts: list[ast.stmt], defined: set[str], in_loop: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            out.extend(self.stmt(s, defined, in_loop))
        return out or [ast.Pass()]

    def stmt(self, s: ast.stmt, defined: set[str], in_loop: bool) -> list[ast.stmt]:
        if isinstance(s, (ast.If, ast.While, ast.For)) and _unsupported_reason(s) is None:
            self.converted += 1
            if isinstance(s, ast.If):
                result = self.convert_if(s, defined, in_loop)
            elif isinstance(s, ast.While):
                result = self.convert_while(s, defined)
            else:
                result = self.convert_for(s, defined)
            return result
        if isinstance(s, _SCOPES):
            defined.add(s.name)  # type: ignore[union-attr]
            return [s]
        if isinstance(s, ast.If):
            s.test = _expr(s.test)
            s.body = self.block(s.body, set(defined), in_loop)
            s.orelse = self.block(s.orelse, set(defined), in_loop) if s.orelse else []
            return [s]
        if isinstance(s, ast.While):
            s.test = _expr(s.test)
            s.body = self.block(s.body, set(defined), True)
            s.orelse = self.block(s.orelse, set(defined), in_loop) if s.orelse else []
            return [s]
        if isinstance(s, ast.For):
            s.iter = _expr(s.iter)
            body = s.body
            extra = getattr(s, "_ag_extra_test", None)
            if extra is not None:  # a lowered break/return in a loop that stays Python
                body = body + [ast.If(test=_not(extra), body=[ast.Break()], orelse=[])]
            s.body = self.block(body, set(defined), True)
            s.orelse = self.block(s.orelse, set(defined), in_loop) if s.orelse else []
            return [s]
        if isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                item.context_expr = _expr(item.context_expr)
            inner = set(defined) | assigned_names([it.optional_vars for it in s.items if it.optional_vars])
            s.body = self.block(s.body, inner, in_loop)
            return [s]
        if isinstance(s, ast.Try):
            s.body = self.block(s.body, set(defined), in_loop)
            for h in s.handlers:
                h.body = self.block(h.body, set(defined), in_loop)
            s.orelse = self.block(s.orelse, set(defined), in_loop) if s.orelse else []
            s.finalbody = self.block(s.finalbody, set(defined), in_loop) if s.finalbody else []
            return [s]
        if isinstance(s, (ast.AsyncFor,)) or type(s).__name__ == "Match":
            return [s]
        s = _Expressions().visit(s)
        defined.update(assigned_names([s]))
        return [s]

    # -- shared pieces

    def _scope_decl(self, names: list[str]) -> list[ast.stmt]:
        nonlocals = [n for n in names if n not in self.global_names]
        globals_ = [n for n in names if n in self.global_names]
        decl: list[ast.stmt] = []
        if nonlocals:
            decl.append(ast.Nonlocal(names=nonlocals))
        if globals_:
            decl.append(ast.Global(names=globals_))
        return decl

    def _state_fns(self, names: list[str]) -> tuple[str, str, list[ast.stmt]]:
        get_name, set_name = self.names.fresh("get_state"), self.names.fresh("set_state")
        reads: list[ast.expr] = [
            _call(_ag("ldu"), _lambda(_name(n, raw=True)), _const(n)) if n in self.unbindable else _name(n, raw=True)
            for n in names
        ]
        getter = _def(get_name, [], [ast.Return(value=_tuple(reads))])
        vars_ = self.names.fresh("vars_")
        if names:
            setter_body: list[ast.stmt] = self._scope_decl(names) + [
                ast.Assign(
                    targets=[ast.Tuple(elts=[_name(n, store=True) for n in names], ctx=ast.Store())],
                    value=_name(vars_),
                    lineno=0,
                )
            ]
        else:
            setter_body = [ast.Pass()]
        setter = _def(set_name, [vars_], setter_body)
        return get_name, set_name, [getter, setter]

    def _undefined_inits(self, names: list[str], defined: set[str]) -> list[ast.stmt]:
        """``try: x / except NameError: x = ag__.Undefined('x')`` for a state name that may be
        unbound here (exact: never overwrites a bound value)."""
        out: list[ast.stmt] = []
        for n in names:
            if n in defined or n in self.global_names:
                continue
            self.maybe_undefined.add(n)
            probe = ast.Expr(value=_name(n, raw=True))
            handler = ast.ExceptHandler(
                type=_name("NameError"), name=None, body=[_assign(n, _call(_ag("Undefined"), _const(n)))]
            )
            out.append(ast.Try(body=[probe], handlers=[handler], orelse=[], finalbody=[]))
        defined.update(names)
        return out

    def _names_tuple(self, names: list[str]) -> ast.Tuple:
        return _tuple([_const(n) for n in names])

    # -- if

    def convert_if(self, s: ast.If, defined: set[str], in_loop: bool) -> list[ast.stmt]:
        modified = sorted(assigned_names(s.body + s.orelse) - self.handler_only)
        live_after = self.liveness.after.get(id(s))
        live = [n for n in modified if self.all_live or live_after is None or n in live_after]
        state = live + [n for n in modified if n not in live]
        pre = self._undefined_inits(state, defined)
        inner = set(defined)
        test = _expr(s.test)
        body_name, else_name = self.names.fresh("if_body"), self.names.fresh("else_body")
        body = _def(body_name, [], self._scope_decl(state) + self.block(s.body, set(inner), in_loop))
        orelse = _def(else_name, [], self._scope_decl(state) + self.block(s.orelse, set(inner), in_loop))
        get_name, set_name, state_fns = self._state_fns(state)
        call = _call(
            _ag("if_stmt"),
            test,
            _name(body_name),
            _name(else_name),
            _name(get_name),
            _name(set_name),
            self._names_tuple(state),
            _const(len(live)),
        )
        return pre + state_fns + [body, orelse, ast.Expr(value=call)]

    # -- loops

    def _loop_options(self, body: list[ast.stmt]) -> tuple[list[ast.stmt], ast.expr]:
        """``set_loop_options(...)`` calls at the top of a loop body become the loop's options
        (evaluated before the loop, as TF's directives converter)."""
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        rest = list(body)
        while rest and isinstance(rest[0], ast.Expr) and isinstance(rest[0].value, ast.Call):
            f = rest[0].value.func
            attr = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if attr != "set_loop_options" or rest[0].value.args:
                break
            for k in rest[0].value.keywords:
                if k.arg is None:
                    break
                keys.append(_const(k.arg))
                values.append(_expr(k.value))
            rest.pop(0)
        return rest, ast.Dict(keys=keys, values=values)

    def _loop_state(self, s: ast.stmt, modified: set[str]) -> set[str]:
        """The loop's state: the names it modifies that are live at its head (read by the test, by
        a later iteration or after the loop); the others stay local to one iteration (TF's rule)."""
        head = self.liveness.head.get(id(s))
        if self.all_live or head is None:
            return modified
        return {n for n in modified if n in head}

    def convert_while(self, s: ast.While, defined: set[str]) -> list[ast.stmt]:
        body_stmts, opts = self._loop_options(s.body)
        state = sorted(self._loop_state(s, assigned_names(body_stmts) - self.handler_only))
        pre = self._undefined_inits(state, defined)
        test_name, body_name = self.names.fresh("loop_test"), self.names.fresh("loop_body")
        test = _def(test_name, [], [ast.Return(value=_expr(s.test))])
        body = _def(body_name, [], self._scope_decl(state) + self.block(body_stmts, set(defined), True))
        get_name, set_name, state_fns = self._state_fns(state)
        call = _call(
            _ag("while_stmt"),
            _name(test_name),
            _name(body_name),
            _name(get_name),
            _name(set_name),
            self._names_tuple(state),
            opts,
        )
        return pre + state_fns + [test, body, ast.Expr(value=call)]

    def convert_for(self, s: ast.For, defined: set[str]) -> list[ast.stmt]:
        body_stmts, opts = self._loop_options(s.body)
        targets = sorted(_target_names(s.target))
        state = sorted(self._loop_state(s, (assigned_names(body_stmts) - self.handler_only) | set(targets)))
        extra = getattr(s, "_ag_extra_test", None)
        pre = self._undefined_inits(state, defined)
        it = s.iter
        if isinstance(it, ast.Call) and (
            (isinstance(it.func, ast.Name) and it.func.id == "range")
            or (isinstance(it.func, ast.Attribute) and it.func.attr == "range")
        ):
            call_it = _expr(it)
            assert isinstance(call_it, ast.Call)
            iter_expr: ast.expr = _call(_ag("range_iter"), *call_it.args)  # (func, args, kwargs)
        else:
            iter_expr = _expr(it)
        body_name, itr = self.names.fresh("loop_body"), self.names.fresh("itr")
        assign_target = ast.Assign(targets=[s.target], value=_name(itr), lineno=0)
        body = _def(
            body_name, [itr], self._scope_decl(state) + [assign_target] + self.block(body_stmts, set(defined), True)
        )
        fns: list[ast.stmt] = [body]
        extra_arg: ast.expr = _const(None)
        if extra is not None:
            extra_name = self.names.fresh("extra_test")
            fns.append(_def(extra_name, [], [ast.Return(value=_expr(extra))]))
            extra_arg = _name(extra_name)
        get_name, set_name, state_fns = self._state_fns(state)
        assert isinstance(opts, ast.Dict)
        opts.keys.insert(0, _const("iterate_names"))
        opts.values.insert(0, self._names_tuple(targets))
        call = _call(
            _ag("for_stmt"),
            iter_expr,
            extra_arg,
            _name(body_name),
            _name(get_name),
            _name(set_name),
            self._names_tuple(state),
            opts,
        )
        return pre + state_fns + fns + [ast.Expr(value=call)]


class _LoadGuards(ast.NodeTransformer):
    """Reads of names that may hold ``ag__.Undefined`` go through ``ag__.ld`` (which raises
    Python's unbound-local error), as TF's ``ag__.ld``."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.names and not getattr(node, "_ag_raw", False):
            return _call(_ag("ld"), node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name) and node.target.id in self.names:
            return [_assign(node.target.id, _call(_ag("ld"), _name(node.target.id))), node]
        return node


# ---- the whole function --------------------------------------------------------------------------


class _Converted:
    __slots__ = ("code", "source", "filename")

    def __init__(self, code: types.CodeType, source: str, filename: str) -> None:
        self.code, self.source, self.filename = code, source, filename


_CACHES: dict[bool, weakref.WeakKeyDictionary[types.CodeType, Any]] = {
    True: weakref.WeakKeyDictionary(),  # recursive conversion (calls through ag__.converted_call)
    False: weakref.WeakKeyDictionary(),
}
_LOCK = threading.Lock()
_counter = itertools.count()


def _parse(func: types.FunctionType) -> ast.FunctionDef:
    code = func.__code__
    if code.co_name == "<lambda>":
        raise _Unsupported("lambda")
    if code.co_flags & _GEN_FLAGS:
        raise _Unsupported("generator or coroutine")
    try:
        source = inspect.getsource(code)
    except (OSError, TypeError) as e:
        raise _Unsupported(f"no source: {e}") from None
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError as e:
        raise _Unsupported(f"source does not parse alone: {e}") from None
    # the original's file positions, so that tracebacks through the converted code name the
    # user's lines (as TF's do)
    first = source.splitlines()[0] if source else ""
    indent = len(first) - len(first.lstrip())
    ast.increment_lineno(tree, code.co_firstlineno - 1)
    if indent:
        for node in ast.walk(tree):
            for attr in ("col_offset", "end_col_offset"):
                col = getattr(node, attr, None)
                if col is not None:
                    setattr(node, attr, col + indent)
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef) or tree.body[0].name != code.co_name:
        raise _Unsupported("source is not the function's definition")
    fn = tree.body[0]
    a = fn.args
    params = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    params += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & inspect.CO_VARARGS)
    n += bool(code.co_flags & inspect.CO_VARKEYWORDS)
    if tuple(params) != code.co_varnames[:n]:
        raise _Unsupported("source does not match the code object")
    return fn


def _mangled(fn: ast.FunctionDef) -> bool:
    def private(s: str | None) -> bool:
        return bool(s) and s.startswith("__") and not s.endswith("__")  # type: ignore[union-attr]

    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and private(n.id):
            return True
        if isinstance(n, ast.Attribute) and private(n.attr):
            return True
        if isinstance(n, ast.arg) and private(n.arg):
            return True
    return False


def _strip(fn: ast.FunctionDef) -> None:
    """The definition as compiled here: no decorators (the function object is the undecorated
    one), no annotations, placeholder defaults (the real ones are copied from the function)."""
    fn.decorator_list = []
    fn.returns = None
    a = fn.args
    for x in a.posonlyargs + a.args + a.kwonlyargs + [v for v in (a.vararg, a.kwarg) if v is not None]:
        x.annotation = None
    a.defaults = [_const(None) for _ in a.defaults]
    a.kw_defaults = [None if d is None else _const(None) for d in a.kw_defaults]

    def fix(stmts: list[ast.stmt]) -> None:
        for i, s in enumerate(stmts):
            if isinstance(s, ast.AnnAssign):  # a local's annotation is never evaluated
                stmts[i] = (
                    ast.Assign(targets=[s.target], value=s.value, lineno=0) if s.value is not None else ast.Pass()
                )
            elif not isinstance(s, _SCOPES):
                for field in ("body", "orelse", "finalbody"):
                    if getattr(s, field, None):
                        fix(getattr(s, field))
                for h in getattr(s, "handlers", []) or []:
                    fix(h.body)

    fix(fn.body)


def _transform(func: types.FunctionType) -> tuple[ast.FunctionDef, int]:
    fn = _parse(func)
    if _mangled(fn):
        raise _Unsupported("private (mangled) names")
    _strip(fn)
    taken = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | {
        n.arg for n in ast.walk(fn) if isinstance(n, ast.arg)
    }
    taken |= set(func.__code__.co_varnames) | set(func.__code__.co_freevars) | set(func.__code__.co_cellvars)
    taken |= {_AG}
    names = _Names(taken)
    fn.body = _lower_loops(fn.body, names)
    _lower_returns(fn, names)
    global_names: set[str] = set()
    for n in _own_nodes(fn.body):
        if isinstance(n, ast.Global):
            global_names.update(n.names)
    all_live = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _FRAME_CALLS for n in ast.walk(fn)
    )
    cf = _ControlFlow(fn, names, global_names, all_live)
    a = fn.args
    params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs + [v for v in (a.vararg, a.kwarg) if v is not None]}
    fn.body = cf.block(fn.body, set(params), False)
    if cf.maybe_undefined:
        fn.body = [_LoadGuards(cf.maybe_undefined).visit(s) for s in fn.body]
        flat: list[ast.stmt] = []
        for s in fn.body:
            flat.extend(s if isinstance(s, list) else [s])
        fn.body = flat
    ast.fix_missing_locations(fn)
    return fn, cf.converted


def _compile(func: types.FunctionType) -> _Converted:
    fn, _ = _transform(func)
    code = func.__code__
    factory_args = [_AG] + list(code.co_freevars)
    source_fn = ast.unparse(fn)
    # compiled under another name: inside the factory, the function's own name must still mean
    # what it means to the original (a global, or the original's closure cell)
    fn.name = "autograph__" + fn.name
    factory = _def("autograph__factory", factory_args, [fn, ast.Return(value=_name(fn.name))])
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    source = ast.unparse(module)
    flags = 0
    for feature in __future__.all_feature_names:
        flag = getattr(__future__, feature).compiler_flag
        if code.co_flags & flag:
            flags |= flag
    try:  # compiled from the tree: the code keeps the original's file and line numbers
        filename = code.co_filename
        factory_code = compile(module, filename, "exec", flags=flags, dont_inherit=True)
    except (ValueError, TypeError, SyntaxError):  # positions the compiler rejects: the unparsed text
        filename = f"<autograph {func.__qualname__} #{next(_counter)}>"
        factory_code = compile(source, filename, "exec", flags=flags, dont_inherit=True)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    outer = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType))
    inner = next(c for c in outer.co_consts if isinstance(c, types.CodeType) and c.co_name == fn.name)
    inner = _requalify(inner, f"autograph__factory.<locals>.{fn.name}", func.__qualname__)
    inner = inner.replace(co_name=code.co_name)
    return _Converted(inner, source_fn, filename)


def _requalify(code: types.CodeType, old: str, new: str) -> types.CodeType:
    """`code` and the functions it defines named under the original's qualified name instead of
    the factory's (``co_qualname`` on 3.11+, the qualname constants before)."""

    def fix(text: str) -> str:
        return new + text[len(old) :] if text.startswith(old) else text

    consts = tuple(
        _requalify(c, old, new) if isinstance(c, types.CodeType) else fix(c) if isinstance(c, str) else c
        for c in code.co_consts
    )
    if hasattr(code, "co_qualname"):  # Python 3.11+
        return code.replace(co_consts=consts, co_qualname=fix(code.co_qualname))
    return code.replace(co_consts=consts)


def _lookup(func: types.FunctionType, recursive: bool = True) -> Any:
    code = func.__code__
    cache = _CACHES[recursive]
    with _LOCK:
        try:
            entry = cache.get(code)
        except TypeError:
            entry = None
        if entry is None:
            _WRAP_CALLS[0] = recursive
            try:
                entry = _compile(func)
            except Exception as e:  # noqa: BLE001  (whatever fails, the function runs unconverted)
                entry = _Unsupported(str(e))
            finally:
                _WRAP_CALLS[0] = True
            try:
                cache[code] = entry
            except TypeError:
                pass
    return entry


def _rebuild(func: types.FunctionType, entry: _Converted) -> types.FunctionType:
    cells = dict(zip(func.__code__.co_freevars, func.__closure__ or ()))
    closure = []
    for name in entry.code.co_freevars:
        if name == _AG:
            closure.append(types.CellType(_operators))
        elif name in cells:
            closure.append(cells[name])
        else:
            raise _Unsupported(f"free variable {name!r} has no cell")
    new = types.FunctionType(entry.code, func.__globals__, func.__name__, func.__defaults__, tuple(closure))
    new.__kwdefaults__ = copy.copy(func.__kwdefaults__)
    new.__dict__.update(func.__dict__)
    new.__qualname__ = func.__qualname__
    new.__module__ = func.__module__
    new.__doc__ = func.__doc__
    new.__annotations__ = dict(getattr(func, "__annotations__", {}) or {})
    new.__ag_converted__ = True  # type: ignore[attr-defined]
    new.__ag_original__ = func  # type: ignore[attr-defined]
    new.__ag_source__ = entry.source  # type: ignore[attr-defined]
    return new


_LIBRARY_MODULES = ("tapegrad", "numpy", "builtins")


def convert(func: Any, strict: bool = False, recursive: bool = True) -> Any:
    """The converted `func`; `func` itself when it cannot be converted (or, with `strict`,
    `ConversionError`)."""
    if getattr(func, "__ag_do_not_convert__", False) or getattr(func, "__ag_converted__", False):
        return func
    if isinstance(func, types.MethodType):
        inner = convert(func.__func__, strict, recursive)
        return func if inner is func.__func__ else types.MethodType(inner, func.__self__)
    if not isinstance(func, types.FunctionType):
        if strict:
            raise ConversionError(f"converting {func!r}: {type(func).__name__} is not a Python function")
        return func
    module = (getattr(func, "__module__", None) or "").split(".")[0]
    if module in _LIBRARY_MODULES and not strict:
        return func
    entry = _lookup(func, recursive)
    if isinstance(entry, _Unsupported):
        if strict:
            raise ConversionError(f"converting {func!r}: {entry}")
        return func
    try:
        return _rebuild(func, entry)
    except Exception as e:  # noqa: BLE001  (whatever fails, the function runs unconverted)
        if strict:
            raise ConversionError(f"converting {func!r}: {e}") from None
        return func
