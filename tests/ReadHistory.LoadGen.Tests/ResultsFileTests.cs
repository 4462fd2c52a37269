using Xunit;
using ReadHistory.LoadGen.Reporting;

namespace ReadHistory.LoadGen.Tests;

public sealed class ResultsFileTests
{
    [Fact]
    public void A_summary_goes_at_the_end_of_the_load_generator_section_before_the_next_one()
    {
        var text = "# R\n\n## Proxy\n\nx\n\n## End to end (load generator)\n\nold\n\n## Later\n\ny\n";
        var result = ResultsFile.Insert(text, "new\n");
        Assert.Equal("# R\n\n## Proxy\n\nx\n\n## End to end (load generator)\n\nold\n\nnew\n\n## Later\n\ny\n", result);
    }

    [Fact]
    public void A_summary_goes_at_the_end_when_the_section_is_last()
    {
        Assert.Equal("# R\n\n## End to end (load generator)\n\nnew\n", ResultsFile.Insert("# R\n\n## End to end (load generator)\n", "new\n"));
    }
}
