/* npusim — command line: run, validate, presets, ops. */
#include <locale.h>
#include <stdio.h>
#include <gsl/gsl_errno.h>
#include "cli/runner.h"
#include "cli/scenario.h"
#include "ops/op.h"

static const char exit_codes[] =
  "Exit codes:\n"
  "  0  success\n"
  "  1  simulation failure (hazard between two tasks, deadlock, failed data effect)\n"
  "  2  bad command line\n"
  "  3  bad scenario (invalid JSON, unknown key, wrong type or value, unknown preset/op)\n"
  "  4  an operator parameter the real aclnn API rejects (message has 161001/161002/561002)\n"
  "  5  a data-mode run whose tensors would not fit in memory (use --timing-only)\n"
  "  6  the outputs cannot be written\n"
  "Nothing is written on failure: outputs appear only when the whole run succeeded.\n";

static const char usage[] =
  "Usage:\n"
  "  npusim run [SCENARIO.json] [--out DIR] [--trace FILE] [--set KEY=VALUE]...\n"
  "             [--timing-only] [--trace-level op|task|all] [--quiet]\n"
  "  npusim validate SCENARIO.json [--set KEY=VALUE]...\n"
  "  npusim presets                 list the hardware presets\n"
  "  npusim presets show NAME [--set KEY=VALUE]...   every resolved value and its source\n"
  "  npusim ops                     list the operators a scenario can use\n"
  "  npusim --help | --version\n"
  "\n"
  "Without SCENARIO, `run` runs the built-in default: a MoE layer on one A3 node\n"
  "(dispatch -> experts -> combine, real tensors; scenarios/moe-a3-default.json).\n"
  "--set takes a scenario path (ops[0].count=4096, seed=7, cluster.ranks=16) or a\n"
  "hardware field of the preset (link.hccs_bw_Bps=14e9); repeatable.\n";

static void
print_help (FILE *out)
{
  fprintf (out, "npusim %s: a deterministic simulator of Ascend A2/A3 NPU clusters running "
           "HCCL and MC2 operators on real tensors.\n\n%s\n%s", PACKAGE_VERSION, usage,
           exit_codes);
}

static int
fail_usage (const char *msg)
{
  fprintf (stderr, "npusim: %s\n(see npusim --help)\n", msg);
  return NPU_EXIT_USAGE;
}

static int
report_error (GError *error, int code)
{
  fprintf (stderr, "npusim: error: %s\n", error->message);
  g_error_free (error);
  return code;
}

static int
cmd_run (int argc, char **argv, gboolean validate)
{
  g_autofree char *out_dir = NULL, *trace = NULL, *level = NULL;
  g_auto (GStrv) sets = NULL;
  gboolean timing_only = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Output folder (default npusim-out)", "DIR" },
    { "trace", 't', 0, G_OPTION_ARG_FILENAME, &trace, "Trace file (default DIR/trace.json)", "FILE" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a scenario or hardware value", "KEY=VALUE" },
    { "timing-only", 0, 0, G_OPTION_ARG_NONE, &timing_only, "Same events without data", NULL },
    { "trace-level", 0, 0, G_OPTION_ARG_STRING, &level, "op, task (default) or all", "LEVEL" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No summary table", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (validate ? "SCENARIO" : "[SCENARIO]");
  g_option_context_set_summary (ctx, validate ? "Check a scenario without running it."
                                              : "Run a scenario (default: the built-in one).");
  g_option_context_set_description (ctx, exit_codes);
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      int rc = fail_usage (error->message);
      g_error_free (error);
      return rc;
    }
  if (argc > 2)
    return fail_usage ("too many arguments: give at most one scenario file");
  if (validate && argc < 2)
    return fail_usage ("validate needs a scenario file");
  const char *path = argc == 2 ? argv[1] : NULL;
  g_autoptr (NpuScenario) sc = npu_scenario_load (path, (const char *const *) sets, &error);
  if (sc == NULL)
    return report_error (error, npu_exit_for_error (error));
  NpuRunOptions opt = {
    .out_dir = out_dir != NULL ? out_dir : "npusim-out",
    .trace_path = trace,
    .timing_only = timing_only,
    .trace_level = level,
    .validate_only = validate,
    .quiet = quiet,
  };
  NpuExit code = npu_run_scenario (sc, &opt, &error);
  if (code != NPU_EXIT_OK)
    return report_error (error, code);
  if (validate)
    printf ("%s: ok (%s, %u ranks, %zu ops)\n", sc->path, npu_preset_name (sc->preset),
            sc->n_ranks, json_array_size (sc->ops));
  return NPU_EXIT_OK;
}

static int
cmd_presets (int argc, char **argv)
{
  GError *error = NULL;
  if (argc == 1)
    {
      g_autoptr (GPtrArray) names = npu_preset_list (&error);
      if (names == NULL)
        return report_error (error, NPU_EXIT_SCENARIO);
      for (guint i = 0; i < names->len; i++)
        {
          g_autoptr (NpuPreset) p = npu_preset_load (g_ptr_array_index (names, i), &error);
          if (p == NULL)
            return report_error (error, NPU_EXIT_SCENARIO);
          printf ("%-6s %s\n", npu_preset_name (p), npu_preset_description (p));
        }
      return NPU_EXIT_OK;
    }
  if (!g_str_equal (argv[1], "show"))
    return fail_usage ("usage: npusim presets [show NAME [--set KEY=VALUE]...]");
  g_auto (GStrv) sets = NULL;
  GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a hardware value", "KEY=VALUE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("show NAME");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      int rc = fail_usage (error->message);
      g_error_free (error);
      return rc;
    }
  if (argc != 3)
    return fail_usage ("usage: npusim presets show NAME");
  g_autoptr (NpuPreset) p = npu_preset_load (argv[2], &error);
  if (p == NULL)
    return report_error (error, NPU_EXIT_SCENARIO);
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (sets[i], "=", 2);
      if (kv[1] == NULL)
        return fail_usage ("--set expects KEY=VALUE");
      if (!npu_preset_set (p, kv[0], kv[1], "--set", &error))
        return report_error (error, NPU_EXIT_SCENARIO);
    }
  g_autofree char *text = npu_preset_describe (p);
  printf ("# preset %s: %s\n%s", npu_preset_name (p), npu_preset_description (p), text);
  return NPU_EXIT_OK;
}

static int
cmd_ops (void)
{
  for (const NpuOpClass *const *k = npu_op_class_all (); *k != NULL; k++)
    printf ("%-24s %s\n", (*k)->name, (*k)->summary);
  return NPU_EXIT_OK;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* GSL errors are returned as codes at the module edge, never abort the process. */
  gsl_set_error_handler_off ();
  if (argc < 2)
    {
      print_help (stderr);
      return NPU_EXIT_USAGE;
    }
  const char *cmd = argv[1];
  if (g_str_equal (cmd, "--help") || g_str_equal (cmd, "-h") || g_str_equal (cmd, "help"))
    {
      print_help (stdout);
      return NPU_EXIT_OK;
    }
  if (g_str_equal (cmd, "--version"))
    {
      printf ("npusim %s\n", PACKAGE_VERSION);
      return NPU_EXIT_OK;
    }
  if (g_str_equal (cmd, "run") || g_str_equal (cmd, "validate"))
    return cmd_run (argc - 1, argv + 1, g_str_equal (cmd, "validate"));
  if (g_str_equal (cmd, "presets"))
    return cmd_presets (argc - 1, argv + 1);
  if (g_str_equal (cmd, "ops"))
    return cmd_ops ();
  g_autofree char *msg = g_strdup_printf ("unknown command '%s'", cmd);
  return fail_usage (msg);
}
