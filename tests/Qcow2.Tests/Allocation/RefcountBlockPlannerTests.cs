namespace Qcow2.Tests.Allocation;

/// <summary>The plans must describe every new cluster, the blocks themselves included, and the table must reach every block.</summary>
public sealed class RefcountBlockPlannerTests
{
    [Fact]
    public void A_run_inside_described_clusters_needs_no_block()
    {
        var plan = RefcountBlockPlanner.Plan(start: 10, payloadClusters: 5, refcountsPerBlock: 100, clusterSize: 512, hasBlock: i => i == 0);
        Assert.Empty(plan.NewBlocks);
        Assert.Equal(15, plan.End);
    }

    [Fact]
    public void A_run_across_a_block_boundary_gets_a_block_that_counts_itself()
    {
        var plan = RefcountBlockPlanner.Plan(start: 98, payloadClusters: 3, refcountsPerBlock: 100, clusterSize: 512, hasBlock: i => i == 0);
        // Cluster 100 needs block 1; the block lands on cluster 101, which block 1 describes too: it counts itself.
        Assert.Equal([1L], plan.NewBlocks);
        Assert.Equal(101, plan.BlocksStart);
        Assert.Equal(102, plan.End);
    }

    [Theory]
    [InlineData(0L, 4L)]
    [InlineData(1000L, 16L)]
    [InlineData(123_456L, 64L)]
    public void Every_planned_cluster_is_described_and_the_table_reaches_every_block(long start, long perBlock)
    {
        var plan = RefcountBlockPlanner.Plan(start, 0, perBlock, clusterSize: 512, hasBlock: _ => false, newTable: true,
            neededElsewhere: index => index % 3 == 0);
        var described = new HashSet<long>(plan.NewBlocks);
        for (var cluster = plan.Start; cluster < plan.End; cluster++)
            Assert.Contains(cluster / perBlock, described);
        for (var index = 0L; index < plan.Start / perBlock; index++)
            Assert.Equal(index % 3 == 0, described.Contains(index));
        Assert.True(plan.TableEntries >= plan.NewBlocks[^1] + 1);
        Assert.True(plan.TableClusters * 512 / 8 >= plan.TableEntries);
        Assert.Equal(plan.TableStart + plan.TableClusters, plan.BlocksStart);
    }
}
