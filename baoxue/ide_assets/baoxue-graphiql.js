/*
 * baoxue's GraphiQL page (development only; README "First query").
 *
 * GraphiQL with the explorer plugin, on this server's /graphql, and a sign-in form: it posts the username
 * and password to /auth/token (the OAuth2 password form) and puts `Authorization: Bearer <token>` into
 * GraphiQL's headers editor, keeping any other headers there. `?q=` in the address holds the query, as on
 * strawberry's page.
 */
(function () {
  "use strict";

  var WELCOME = [
    "# baoxue 保学 GraphiQL",
    "#",
    "# 先在上方登录（演示账号见 README「Demo accounts」，密码 baoxue-demo），",
    "# 然后按 Ctrl-Enter 运行查询。",
    "# Sign in above (demo accounts: README, password baoxue-demo), then press Ctrl-Enter.",
    "",
    "{",
    "  viewer {",
    "    username",
    "    displayName",
    "  }",
    "}",
    "",
  ].join("\n");

  var STORED_HEADERS = "graphiql:headers"; // where GraphiQL keeps the headers editor (shouldPersistHeaders)
  var endpoint = window.location.href.split(/[?#]/)[0];
  var tokenUrl = new URL("auth/token", new URL(".", endpoint)).toString();
  var parameters = new URLSearchParams(window.location.search);

  function websocketUrl(url) {
    var parsed = new URL(url);
    parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
    return parsed.toString();
  }

  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: websocketUrl(endpoint) });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  // The sign-in form calls this with a token once the component has mounted.
  var authorize = null;

  function keepInAddress(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    var search = parameters.toString();
    window.history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  function withAuthorization(headersText, token) {
    var headers = {};
    try {
      var parsed = JSON.parse(headersText || "{}");
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        headers = parsed;
      }
    } catch (ignored) {
      // Not JSON: GraphiQL would refuse to send it anyway; start again with the token alone.
    }
    Object.keys(headers).forEach(function (name) {
      if (name.toLowerCase() === "authorization") {
        delete headers[name];
      }
    });
    headers.Authorization = "Bearer " + token;
    return JSON.stringify(headers, null, 2);
  }

  function BaoxueGraphiQL() {
    var query = React.useState(parameters.get("q") || WELCOME);
    var variables = React.useState(parameters.get("variables") || undefined);
    var headers = React.useState(undefined);

    React.useEffect(function () {
      authorize = function (token) {
        var current = headers[0] !== undefined ? headers[0] : window.localStorage.getItem(STORED_HEADERS);
        headers[1](withAuthorization(current, token));
      };
    });

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: query[0],
      variables: variables[0],
      headers: headers[0],
      onEditQuery: function (value) {
        query[1](value);
        keepInAddress("q", value);
      },
      onEditVariables: function (value) {
        variables[1](value);
        keepInAddress("variables", value);
      },
      onEditHeaders: function (value) {
        headers[1](value);
      },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    });
  }

  function say(text, isError) {
    var status = document.getElementById("baoxue-login-status");
    status.textContent = text;
    status.className = isError ? "baoxue-error" : "";
  }

  document.getElementById("baoxue-login").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var username = form.elements.username.value;
    var body = new URLSearchParams({ username: username, password: form.elements.password.value });
    say("登录中… / signing in…", false);
    fetch(tokenUrl, { method: "POST", body: body })
      .then(function (response) {
        return response.json().then(function (answer) {
          return { status: response.status, retryAfter: response.headers.get("Retry-After"), answer: answer };
        });
      })
      .then(function (reply) {
        if (reply.status === 200 && reply.answer.access_token) {
          authorize(reply.answer.access_token);
          form.elements.password.value = "";
          var minutes = Math.round(reply.answer.expires_in / 60);
          say("已登录 " + username + "，令牌 " + minutes + " 分钟内有效 / signed in as " + username +
            ", the token lasts " + minutes + " min (headers pane)", false);
        } else if (reply.status === 429) {
          say(reply.answer.error_description + " (Retry-After: " + reply.retryAfter + " s)", true);
        } else {
          say(reply.answer.error_description || reply.answer.error || "HTTP " + reply.status, true);
        }
      })
      .catch(function (error) {
        say("登录失败 / sign-in failed: " + error, true);
      });
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(BaoxueGraphiQL));
})();
