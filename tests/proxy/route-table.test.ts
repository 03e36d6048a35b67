// The route table's matching rules, one by one, as envoy source/common/router/config_impl.cc and
// source/common/http/header_utility.cc (matchHeaders) apply them; and the RE2 -> JavaScript
// translation of safe_regex patterns. End to end through `run -c`: bootstrap-routes.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HeaderMatcherConfig, RouteConfig } from "../../src/proxy/config/dev-proxy-config";
import { re2ToJavaScript } from "../../src/proxy/config/re2-regex";
import type { HeaderList } from "../../src/proxy/header-list";
import { applyHeaderMutations } from "../../src/proxy/router/header-mutations";
import { rewrittenPath, RouteTable } from "../../src/proxy/router/route-table";

const request = (path: string, authority = "host", extra: HeaderList = []): HeaderList => [[":authority", authority], [":path", path], [":method", "GET"], ...extra];
const table = (routes: RouteConfig[], domains = ["*"], ignorePortInHostMatching?: boolean) =>
  new RouteTable({ virtualHosts: [{ name: "h", domains, routes }], ignorePortInHostMatching });
const route = (extra: Partial<RouteConfig>): RouteConfig => ({ cluster: "c", timeoutMs: 0, ...extra });
const matches = (matcher: HeaderMatcherConfig, headers: HeaderList) => table([route({ prefix: "/", headers: [matcher] })]).route(request("/", "h", headers)) !== undefined;

describe("route table: path matches", () => {
  it("prefix includes the query; case_sensitive false ignores case", () => {
    assert.ok(table([route({ prefix: "/a?x" })]).route(request("/a?x=1")));
    assert.equal(table([route({ prefix: "/API" })]).route(request("/api/x")), undefined);
    assert.ok(table([route({ prefix: "/API", caseSensitive: false })]).route(request("/api/x")));
    assert.ok(table([route({ path: "/API", caseSensitive: false })]).route(request("/api?q")));
  });

  it("path_separated_prefix matches the prefix itself or a following segment only", () => {
    const t = table([route({ pathSeparatedPrefix: "/api" })]);
    assert.ok(t.route(request("/api")));
    assert.ok(t.route(request("/api/v1?x")));
    assert.ok(t.route(request("/api?x")));
    assert.equal(t.route(request("/apiv1")), undefined);
  });

  it("grpc matches only application/grpc requests", () => {
    const t = table([route({ prefix: "/", grpc: true })]);
    assert.ok(t.route(request("/s/M", "h", [["content-type", "application/grpc+proto"]])));
    assert.equal(t.route(request("/s/M", "h", [["content-type", "application/json"]])), undefined);
  });

  it("prefix_rewrite replaces the matched prefix, or the whole path of a path match, keeping the query", () => {
    assert.equal(rewrittenPath(route({ prefix: "/v1/", prefixRewrite: "/" }), "/v1/a?b"), "/a?b");
    assert.equal(rewrittenPath(route({ path: "/old", prefixRewrite: "/new" }), "/old?q=1"), "/new?q=1");
    assert.equal(rewrittenPath(route({ prefix: "/v1/" }), "/v1/a"), "/v1/a");
  });
});

describe("route table: virtual hosts", () => {
  it("ignore_port_in_host_matching leaves the port out", () => {
    const routes = [route({ prefix: "/" })];
    assert.equal(table(routes, ["example.com"]).route(request("/", "example.com:10000")), undefined);
    assert.ok(table(routes, ["example.com"], true).route(request("/", "example.com:10000")));
    assert.ok(table(routes, ["[::1]"], true).route(request("/", "[::1]:80")));
  });

  it("with only a * host, a request without authority is routed; with other hosts it is not", () => {
    const noAuthority: HeaderList = [[":path", "/"]];
    assert.ok(table([route({ prefix: "/" })]).route(noAuthority));
    const both = new RouteTable({ virtualHosts: [{ name: "a", domains: ["a"], routes: [route({ prefix: "/" })] }, { name: "all", domains: ["*"], routes: [route({ prefix: "/" })] }] });
    assert.equal(both.route(noAuthority), undefined);
  });

  it("the longest prefix* wins", () => {
    const t = new RouteTable({
      virtualHosts: [
        { name: "short", domains: ["api*"], routes: [route({ prefix: "/", cluster: "short" })] },
        { name: "long", domains: ["api.v2*"], routes: [route({ prefix: "/", cluster: "long" })] },
      ],
    });
    assert.equal(t.route(request("/", "api.v2.example"))?.cluster, "long");
    assert.equal(t.route(request("/", "api.v1.example"))?.cluster, "short");
    assert.equal(t.route(request("/", "api")), undefined);
  });
});

describe("route table: header matchers", () => {
  it("repeated headers are joined with a comma", () => {
    assert.ok(matches({ name: "x", kind: "exact", value: "a,b" }, [["x", "a"], ["x", "b"]]));
  });

  it("a missing header fails every matcher but present_match false, unless treated as empty", () => {
    assert.equal(matches({ name: "x", kind: "exact", value: "" }, []), false);
    assert.ok(matches({ name: "x", kind: "exact", value: "", treatMissingAsEmpty: true }, []));
    assert.ok(matches({ name: "x", kind: "present", value: "", present: false }, []));
    assert.equal(matches({ name: "x", kind: "present", value: "", present: false }, [["x", "1"]]), false);
    // Inverted: a missing header matches only an inverted present_match true.
    assert.equal(matches({ name: "x", kind: "exact", value: "a", invert: true }, []), false);
    assert.ok(matches({ name: "x", kind: "present", value: "", present: true, invert: true }, []));
    assert.ok(matches({ name: "x", kind: "exact", value: "a", invert: true }, [["x", "b"]]));
  });

  it("prefix, suffix, contains, ignore_case and regex", () => {
    assert.ok(matches({ name: "x", kind: "prefix", value: "ab" }, [["x", "abc"]]));
    assert.ok(matches({ name: "x", kind: "suffix", value: "bc" }, [["x", "abc"]]));
    assert.ok(matches({ name: "x", kind: "contains", value: "b" }, [["x", "abc"]]));
    assert.equal(matches({ name: "x", kind: "exact", value: "ABC" }, [["x", "abc"]]), false);
    assert.ok(matches({ name: "x", kind: "exact", value: "ABC", ignoreCase: true }, [["x", "abc"]]));
    const regex = re2ToJavaScript("v[0-9]+", "r");
    assert.ok(matches({ name: "x", kind: "regex", value: "", regex }, [["x", "v12"]]));
    assert.equal(matches({ name: "x", kind: "regex", value: "", regex }, [["x", "v12x"]]), false);
  });
});

describe("RE2 patterns as JavaScript regexes", () => {
  const full = (pattern: string, text: string) => {
    const { source, flags } = re2ToJavaScript(pattern, "where");
    return new RegExp(source, flags).test(text);
  };

  it("match the whole text, with RE2's own spellings translated", () => {
    assert.ok(full("/a/[0-9]+", "/a/12"));
    assert.equal(full("/a/[0-9]+", "/a/12/b"), false);
    assert.equal(full("a|b", "ab"), false);
    assert.ok(full("(?P<id>[a-z]+)-\\d", "abc-1"));
    assert.ok(full("\\A/x\\z", "/x"));
    assert.ok(full("[[:alpha:]]+[[:digit:]]", "abc1"));
    assert.ok(full("(?i)/API", "/api"));
    assert.ok(full("[]a]+", "]a]"));
  });

  it("refuse what JavaScript reads differently or lacks, naming the field", () => {
    for (const [pattern, message] of [
      ["(?s)a.b", "where: the inline flags (?s) cannot be mapped to a JavaScript regex"],
      ["\\Qa.b\\E", "where: \\Q cannot be mapped to a JavaScript regex"],
      ["\\pL+", "where: \\p cannot be mapped to a JavaScript regex"],
      ["a(?i)b", "where: the group (?i… cannot be mapped to a JavaScript regex"],
      ["[[:^alpha:]]", "where: the class [:^alpha:] cannot be mapped to a JavaScript regex"],
    ]) {
      assert.throws(() => re2ToJavaScript(pattern, "where"), { name: "ConfigError", message }, pattern);
    }
    assert.throws(() => re2ToJavaScript("a(", "where"), /^ConfigError: where: not a regex JavaScript can run/);
  });
});

describe("header mutations", () => {
  const base: HeaderList = [[":status", "200"], ["a", "1"], ["b", "2"], ["a", "3"]];
  it("each append_action as Envoy's HeaderParser applies it", () => {
    assert.deepEqual(applyHeaderMutations(base, [{ name: "a", value: "x", action: "APPEND_IF_EXISTS_OR_ADD" }]), [...base, ["a", "x"]]);
    assert.deepEqual(applyHeaderMutations(base, [{ name: "a", value: "x", action: "ADD_IF_ABSENT" }]), base);
    assert.deepEqual(applyHeaderMutations(base, [{ name: "c", value: "x", action: "ADD_IF_ABSENT" }]), [...base, ["c", "x"]]);
    assert.deepEqual(applyHeaderMutations(base, [{ name: "a", value: "x", action: "OVERWRITE_IF_EXISTS_OR_ADD" }]), [[":status", "200"], ["b", "2"], ["a", "x"]]);
    assert.deepEqual(applyHeaderMutations(base, [{ name: "c", value: "x", action: "OVERWRITE_IF_EXISTS" }]), base);
    assert.deepEqual(applyHeaderMutations(base, [{ remove: "a" }]), [[":status", "200"], ["b", "2"]]);
    // The input list is never changed.
    assert.deepEqual(base, [[":status", "200"], ["a", "1"], ["b", "2"], ["a", "3"]]);
  });
});
